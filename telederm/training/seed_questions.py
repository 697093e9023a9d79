"""A starter question bank for the licence exam, in Swedish (the language of the course).

Loaded by ``manage.py seed_exam_questions`` (which ``seed_demo`` calls). Image questions use the
CC0 ISIC images in ``telederm/images/testdata`` with the diagnosis the archive gives them; the
explanations describe what the images show. Region administrators adapt the bank afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from telederm.training.models import QuestionKind, Topic


@dataclass(frozen=True)
class Seed:
    key: str
    topic: str
    text: str
    options: list[tuple[str, bool]]
    explanation: str
    kind: str = QuestionKind.SINGLE
    image: str = ""  # an ISIC image in telederm/images/testdata
    image_alt: str = ""


IMAGE_ALT = "Dermatoskopisk bild av en pigmenterad hudförändring"
C, D, E, P, S = Topic.CLINICAL, Topic.DERMOSCOPY, Topic.EXCISION, Topic.PATIENT, Topic.SYSTEM
MULTI = QuestionKind.MULTIPLE

QUESTIONS: list[Seed] = [
    # --- Klinisk bedömning -----------------------------------------------------------------
    Seed(
        "c-abcde",
        C,
        "ABCDE-regeln används vid bedömning av pigmenterade hudförändringar. Vad står E för?",
        [
            ("Evolution – förändring över tid i storlek, form eller färg", True),
            ("Elevation – att lesionen är upphöjd", False),
            ("Erytem – rodnad runt lesionen", False),
            ("Exkoriation – att patienten har kliat på lesionen", False),
        ],
        "E står för evolution. En lesion som patienten beskriver som ny eller växande är en av "
        "de viktigaste varningssignalerna för melanom. Upphöjning ingår i EFG-regeln för "
        "nodulära melanom.",
    ),
    Seed(
        "c-efg",
        C,
        "Nodulära melanom uppfyller ofta inte ABCD-kriterierna. Vilken minnesregel fångar dem "
        "bättre?",
        [
            ("EFG: upphöjd (elevated), fast (firm), växande (growing) i mer än en månad", True),
            ("Sjupunktslistan", False),
            ("Regeln om diameter över 6 mm", False),
            ("Ugly duckling-tecknet", False),
        ],
        "Nodulära melanom är ofta symmetriska, enfärgade och ibland opigmenterade, men "
        "upphöjda, fasta och växande. En sådan knuta som vuxit i mer än en månad ska bedömas "
        "skyndsamt.",
    ),
    Seed(
        "c-risk",
        C,
        "Vilka av följande ökar risken för melanom?",
        [
            ("Många nevi (fler än 100)", True),
            ("Tidigare melanom", True),
            ("Melanom hos förstagradssläkting", True),
            ("Mörk hudtyp (Fitzpatrick V–VI)", False),
            ("Många seborroiska keratoser", False),
        ],
        "Många nevi, atypiska nevi, tidigare melanom, ärftlighet, ljus hudtyp, solbränna och "
        "immunsuppression ökar risken. Mörk hud ger lägre risk (men akrala melanom "
        "förekommer). Seborroiska keratoser är godartade och ökar inte risken.",
        kind=MULTI,
    ),
    Seed(
        "c-ugly-duckling",
        C,
        "Vad menas med ”ugly duckling”-tecknet?",
        [
            ("En lesion som skiljer sig från patientens övriga nevi", True),
            ("En lesion med fjällande, ojämn yta", False),
            ("Ett nevus som blivit blekare med åren", False),
            ("Ett nevus på en ovanlig plats på kroppen", False),
        ],
        "En persons nevi liknar oftast varandra. Den lesion som avviker från mönstret ska "
        "granskas särskilt noga, även om den inte uppfyller ABCD.",
    ),
    Seed(
        "c-history",
        C,
        "Vilka uppgifter i anamnesen talar för att en pigmenterad lesion behöver bedömas "
        "skyndsamt?",
        [
            ("Den är nytillkommen hos en vuxen över 40 år", True),
            ("Den har förändrats i storlek, form eller färg", True),
            ("Den blöder utan att ha skadats", True),
            ("Den har sett likadan ut i 20 år", False),
            ("Patienten har flera liknande nevi", False),
        ],
        "Nytillkomst i vuxen ålder, förändring och spontan blödning är varningstecken. En "
        "lesion som varit oförändrad länge och liknar patientens övriga nevi är oftast "
        "godartad.",
        kind=MULTI,
    ),
    Seed(
        "c-acral",
        C,
        "En 70-årig kvinna har en brun fläck under foten som har vuxit det senaste året. Vad är "
        "rätt?",
        [
            ("Akralt melanom måste övervägas: fotografera och remittera", True),
            ("Pigmenterade fläckar under foten är alltid godartade", False),
            ("Det är sannolikt en vårta som kan frysbehandlas", False),
            ("Avvakta ett år och se om den växer mer", False),
        ],
        "Akrala melanom förekommer hos alla hudtyper och upptäcks ofta sent. En växande "
        "pigmentering i handflata eller fotsula hos en äldre person ska utredas.",
    ),
    # --- Dermatoskopi ----------------------------------------------------------------------
    Seed(
        "d-image-0173",
        D,
        "Dermatoskopisk bild från en 65-årig man. Vilken bedömning är mest rimlig?",
        [
            ("Misstänkt melanom", True),
            ("Benignt nevus", False),
            ("Seborroisk keratos", False),
            ("Hemangiom", False),
        ],
        "Lesionen är asymmetrisk i både form och färg, med flera färger (mörkbrunt, svartbrunt "
        "och blågrått) och en oregelbunden, flikig kant. Diagnos enligt ISIC-arkivet: melanom. "
        "(Bild ISIC_0000173, CC0.)",
        image="ISIC_0000173",
    ),
    Seed(
        "d-image-0249",
        D,
        "Dermatoskopisk bild från en 20-årig kvinna. Vad är mest sannolikt?",
        [
            ("Benignt nevus", True),
            ("Melanom", False),
            ("Basalcellscancer", False),
            ("Dermatofibrom", False),
        ],
        "Symmetrisk, rund lesion med en enda, jämnt fördelad ljusbrun färg och regelbunden "
        "kant, hos en ung person: typiskt för ett benignt nevus. Diagnos enligt ISIC-arkivet: "
        "nevus. (Bild ISIC_0000249, CC0.)",
        image="ISIC_0000249",
    ),
    Seed(
        "d-image-0164",
        D,
        "Dermatoskopisk bild från en 60-årig man. Lesionen har tillkommit det senaste året. "
        "Vilken åtgärd är rimlig?",
        [
            ("Excision i sin helhet med cirka 2 mm marginal (misstänkt melanom)", True),
            ("Ingen åtgärd", False),
            ("Ny fotografering om tolv månader", False),
            ("Frysbehandling", False),
        ],
        "Asymmetri och flera färger med mörka, oregelbundet fördelade partier i en ny lesion "
        "hos en äldre person ger misstanke om melanom, som ska excideras i sin helhet. Diagnos "
        "enligt ISIC-arkivet: melanom. (Bild ISIC_0000164, CC0.)",
        image="ISIC_0000164",
    ),
    Seed(
        "d-image-0204",
        D,
        "Dermatoskopisk bild från en 45-årig man. Vad är mest sannolikt?",
        [
            ("Nevus", True),
            ("Melanom", False),
            ("Seborroisk keratos", False),
            ("Basalcellscancer", False),
        ],
        "Brun, ganska symmetrisk lesion med likartad färg över hela ytan och utan blågrå eller "
        "vita strukturer. Diagnos enligt ISIC-arkivet: nevus. Bilden vägs alltid mot "
        "anamnesen: en ny eller växande lesion hos en vuxen bedöms ändå av hudläkare. "
        "(Bild ISIC_0000204, CC0.)",
        image="ISIC_0000204",
    ),
    Seed(
        "d-melanoma-structures",
        D,
        "Vilka dermatoskopiska strukturer talar för melanom?",
        [
            ("Blåvit slöja", True),
            ("Atypiskt pigmentnätverk", True),
            ("Oregelbundna prickar och globuli i periferin", True),
            ("Milia-lika cystor", False),
            ("Symmetriskt, regelbundet pigmentnätverk", False),
        ],
        "Blåvit slöja, atypiskt nätverk, oregelbundna prickar och globuli, oregelbundna "
        "strimmor och regressionsstrukturer är melanomkriterier. Milia-lika cystor talar för "
        "seborroisk keratos och ett regelbundet nätverk för nevus.",
        kind=MULTI,
    ),
    Seed(
        "d-seborrheic-keratosis",
        D,
        "Vilket dermatoskopiskt fynd är typiskt för seborroisk keratos?",
        [
            ("Milia-lika cystor och komedolika öppningar", True),
            ("Trädgrenslika (arboriserande) kärl", False),
            ("Blåvit slöja", False),
            ("Röd-blå lakuner", False),
        ],
        "Milia-lika cystor, komedolika öppningar och ett hjärnlikt mönster av fåror och åsar "
        "är typiska för seborroisk keratos. Arboriserande kärl talar för basalcellscancer och "
        "röd-blå lakuner för hemangiom.",
    ),
    Seed(
        "d-basal-cell",
        D,
        "Vilket dermatoskopiskt fynd talar mest för basalcellscancer?",
        [
            ("Skarpa, trädgrenslika (arboriserande) kärl", True),
            ("Parallellt fåremönster", False),
            ("Centralt vitt område med fint nätverk i periferin", False),
            ("Regelbundet pigmentnätverk", False),
        ],
        "Arboriserande kärl, blågrå ovoida nästen, lövlika områden och ulceration talar för "
        "basalcellscancer. Centralt vitt område med perifert nätverk är typiskt för "
        "dermatofibrom, parallellt fåremönster för akrala nevi.",
    ),
    Seed(
        "d-acral-pattern",
        D,
        "Vilket dermatoskopiskt mönster i fotsulan talar för akralt melanom?",
        [
            ("Parallellt åsmönster: pigmentet ligger på hudåsarna", True),
            ("Parallellt fåremönster: pigmentet ligger i fårorna", False),
            ("Gallermönster", False),
            ("Fibrillärt mönster", False),
        ],
        "Pigment på åsarna (parallel ridge pattern) talar för akralt melanom. Pigment i "
        "fårorna, gallermönster och fibrillärt mönster är typiska för akrala nevi.",
    ),
    # --- Excision --------------------------------------------------------------------------
    Seed(
        "e-margin",
        E,
        "Du misstänker melanom och ska göra en diagnostisk excision på vårdcentralen. Vad är rätt?",
        [
            (
                "Excidera hela lesionen med cirka 2 mm kliniskt fri marginal ned i subkutant fett",
                True,
            ),
            ("Ta en stansbiopsi från den mörkaste delen", False),
            ("Shava bort lesionen i nivå med huden", False),
            ("Excidera direkt med 2 cm marginal", False),
        ],
        "Misstänkt melanom excideras i sin helhet med ungefär 2 mm marginal ned i subkutis, så "
        "att tumörtjockleken kan bedömas. Partiella biopsier och shaving kan ge fel diagnos och "
        "försvåra stadieindelningen. Den utvidgade excisionen görs först när PAD-svaret finns.",
    ),
    Seed(
        "e-pad-request",
        E,
        "Vad ska framgå av PAD-remissen när du exciderar en lesion med misstanke om melanom?",
        [
            ("Klinisk frågeställning och misstanke", True),
            ("Lokalisation och storlek", True),
            ("Relevant anamnes, till exempel förändring över tid och tidigare melanom", True),
            ("Patientens yrke", False),
            ("Ingenting utöver personnumret", False),
        ],
        "Patologen behöver den kliniska misstanken, lokalisationen och relevant anamnes för att "
        "välja undersökning och besvara rätt fråga.",
        kind=MULTI,
    ),
    Seed(
        "e-svf",
        E,
        "Hudläkaren svarar att det finns välgrundad misstanke om melanom. Vad innebär det?",
        [
            ("Utredning enligt standardiserat vårdförlopp (SVF) för melanom, utan dröjsmål", True),
            ("Ny kontroll om sex månader", False),
            ("Patienten får själv kontakta hudkliniken när det passar", False),
            ("Ingenting, svaret är bara information", False),
        ],
        "Välgrundad misstanke startar SVF för hudmelanom: utredningen ska gå snabbt och "
        "patienten ska få veta att det gäller misstanke om cancer och vad som händer härnäst.",
    ),
    Seed(
        "e-after-pad",
        E,
        "PAD efter din diagnostiska excision visar ett invasivt melanom. Vad gäller?",
        [
            ("Remiss för utvidgad excision och fortsatt handläggning enligt vårdprogrammet", True),
            ("Ingen mer åtgärd, eftersom lesionen redan är borttagen", False),
            ("Ny teledermatoskopi om ett år", False),
            ("Området ska alltid strålbehandlas", False),
        ],
        "Efter verifierat melanom görs en utvidgad excision med marginal efter tumörtjockleken, "
        "och patienten följs upp enligt det nationella vårdprogrammet för melanom.",
    ),
    # --- Patienthantering ------------------------------------------------------------------
    Seed(
        "p-information",
        P,
        "En patient undrar varför du fotograferar hennes födelsemärke. Vad är lämpligt att säga?",
        [
            ("Att en hudläkare bedömer bilderna och att svar brukar komma inom en vecka", True),
            ("Att bilderna används för forskning", False),
            ("Att bilderna publiceras i en öppen bilddatabas", False),
            ("Ingenting, patienten behöver inte veta", False),
        ],
        "Berätta om syftet (bedömning av hudspecialist), att bilderna blir en del av journalen "
        "och regionens bildarkiv, och när patienten kan vänta sig besked.",
    ),
    Seed(
        "p-protected-identity",
        P,
        "Patienten har skyddad identitet. Vad gäller när du skriver remissen?",
        [
            ("Markera skyddad identitet: bara personnumret lagras och visas", True),
            ("Skriv namnet i fritexten så att hudläkaren vet vem det gäller", False),
            ("Patienten kan inte remitteras med teledermatoskopi", False),
            ("Använd ett påhittat personnummer", False),
        ],
        "För patienter med skyddad identitet lagras och visas bara numret. Inget som kan röja "
        "namn, adress eller vistelseort får skrivas i remissen.",
    ),
    Seed(
        "p-benign-answer",
        P,
        "Svaret från hudläkaren är ”benign förändring, ingen åtgärd”. Vad gör du?",
        [
            ("Meddelar patienten och ber hen höra av sig om lesionen förändras", True),
            ("Bokar ändå en excision för säkerhets skull", False),
            ("Ingenting, patienten behöver inte få svaret", False),
            ("Skickar en ny remiss om en månad", False),
        ],
        "Patienten ska få svaret. Ett lugnande besked är en av metodens vinster, och rådet att "
        "återkomma vid förändring hör till det.",
    ),
    Seed(
        "p-taking-photos",
        P,
        "Vad ska du tänka på när du tar bilderna?",
        [
            ("Ta en översiktsbild där det syns var på kroppen lesionen sitter", True),
            ("Undvik ansiktet och andra identifierande drag när de inte behövs", True),
            ("Håll dermatoskopet mot huden och låt kameran fokusera", True),
            ("Använd telefonens blixt för skarpare dermatoskopisk bild", False),
            ("Skicka bilderna med sms eller e-post om det går fortare", False),
        ],
        "Översiktsbilden visar läget, den dermatoskopiska bilden detaljerna. Blixten ger "
        "reflexer och överexponering; dermatoskopets eget ljus används. Bilder skickas bara "
        "genom systemet, aldrig med sms eller e-post.",
        kind=MULTI,
    ),
    # --- Att använda systemet --------------------------------------------------------------
    Seed(
        "s-required-photos",
        S,
        "Vilka bilder behövs minst för varje lesion i en remiss?",
        [
            ("Minst en översiktsbild och minst en dermatoskopisk bild", True),
            ("En dermatoskopisk bild räcker", False),
            ("En översiktsbild räcker", False),
            ("Tre dermatoskopiska bilder", False),
        ],
        "Remissen kan skickas först när varje lesion har minst en översiktsbild och en "
        "dermatoskopisk bild.",
    ),
    Seed(
        "s-blurred-photo",
        S,
        "Bilden får varningen att den ser suddig ut. Vad gör du?",
        [
            (
                "Tar om den: håller stilla, låter kameran fokusera och håller dermatoskopet mot huden",
                True,
            ),
            ("Skickar ändå, hudläkaren kan zooma", False),
            ("Skärper bilden i ett bildredigeringsprogram", False),
            ("Tar en skärmdump av bilden och skickar den", False),
        ],
        "En suddig bild går inte att bedöma och leder ofta till komplettering. Ta om den direkt; "
        "”Använd ändå” är till för när en bättre bild inte går att få.",
    ),
    Seed(
        "s-deadline",
        S,
        "Inom hur lång tid ska hudläkaren svara på en teledermatoskopisk remiss?",
        [
            ("Inom sju dagar", True),
            ("Inom ett dygn", False),
            ("Inom en månad", False),
            ("Det finns ingen tidsgräns", False),
        ],
        "Målet är svar inom sju kalenderdagar. Tidsfristen syns på remissen och i granskningskön.",
    ),
    Seed(
        "s-complement",
        S,
        "Hudläkaren begär komplettering. Vad innebär det?",
        [
            ("Remissen kommer tillbaka med en fråga; du svarar och kan lägga till bilder", True),
            ("Remissen är avslutad och måste göras om från början", False),
            ("Patienten ska remitteras till hudkliniken", False),
            ("Hudläkaren har avböjt remissen", False),
        ],
        "Vid komplettering går remissen tillbaka till mottagningen med en fråga. Svara i "
        "remissen och lägg till bilder vid behov, så fortsätter bedömningen.",
    ),
    Seed(
        "s-requirements",
        S,
        "Vad krävs för att en läkare ska kunna skicka teledermatoskopiska remisser?",
        [
            ("Ett giltigt körkort i teledermatoskopi (godkänt prov, minst 60 % rätt)", True),
            ("Att mottagningens utrustning har klarat utrustningstestet", True),
            ("Specialistkompetens i dermatologi", False),
            ("Ett skriftligt samtycke från patienten på papper", False),
        ],
        "Remitterande läkare behöver ett giltigt körkort, och mottagningens telefon och "
        "dermatoskop ska ha klarat utrustningstestet innan den första remissen skickas.",
        kind=MULTI,
    ),
]
