"""The body-site vocabulary and the accessible body map that shows it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import FrozenInstanceError, dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from isic_metadata.anatom_site_hierarchical import AnatomSiteEnum

from telederm.referrals.bodysites import (
    BODY_SITES,
    VIEWS,
    Laterality,
    get_site,
    is_valid_site,
    site_choices,
    sites_in_view,
)

TEMPLATE = "referrals/includes/bodymap.html"
VIEWBOX_CENTRE_X = 110  # the figure is drawn symmetric around x = 110 (viewBox 0 0 220 480)


class LesionSiteForm(forms.Form):
    body_site = forms.ChoiceField(label="Body site", choices=())
    laterality = forms.ChoiceField(
        label="Side (the patient's)", choices=Laterality.choices, initial=Laterality.UNPAIRED
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field = self.fields["body_site"]
        assert isinstance(site_field, forms.ChoiceField)
        site_field.choices = [("", "Choose a body site…"), *site_choices()]


@dataclass
class Region:
    view: str
    tag: str
    attrs: dict[str, str]
    title: str = ""


class BodyMapParser(HTMLParser):
    """Collects the map's regions (per view), the body-site options, selects and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.regions: list[Region] = []
        self.svg_views: list[str] = []
        self.options: list[str] = []
        self.selects: dict[str, dict[str, str]] = {}
        self.scripts: list[dict[str, str]] = []
        self._view: str | None = None
        self._select: str | None = None
        self._region: Region | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "svg":
            self._view = values.get("data-view")
            self.svg_views.append(self._view or "")
        elif tag == "select":
            self._select = values.get("name")
            self.selects[values.get("name", "")] = values
        elif tag == "option" and self._select == "body_site" and values.get("value"):
            self.options.append(values["value"])
        elif tag == "script":
            self.scripts.append(values)
        elif tag == "title" and self._region is not None:
            self._in_title = True
        if "data-site" in values:
            assert self._view is not None, "a region outside an <svg data-view>"
            self._region = Region(view=self._view, tag=tag, attrs=values)
            self.regions.append(self._region)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._view = None
        elif tag == "select":
            self._select = None
        elif tag == "title":
            self._in_title = False
        elif self._region is not None and tag == self._region.tag:
            self._region = None

    def handle_data(self, data: str) -> None:
        if self._in_title and self._region is not None:
            self._region.title += data


def render_bodymap(data: dict[str, str] | None = None) -> str:
    form = LesionSiteForm(data)
    return render_to_string(
        TEMPLATE, {"field": form["body_site"], "laterality_field": form["laterality"]}
    )


def parse(html: str) -> BodyMapParser:
    parser = BodyMapParser()
    parser.feed(html)
    parser.close()
    return parser


def mean_x(region: Region) -> float:
    if region.tag == "ellipse":
        return float(region.attrs["cx"])
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", region.attrs["d"])]
    assert "A" not in region.attrs["d"], "paired shapes use M/L/C/Q/Z only"
    xs = numbers[0::2]
    return sum(xs) / len(xs)


# --- The vocabulary --------------------------------------------------------------------------


def test_every_isic_site_is_a_value_of_the_isic_anatomic_site_enum() -> None:
    values = {member.value for member in AnatomSiteEnum}
    assert [site.code for site in BODY_SITES if site.isic_site not in values] == []


def test_codes_are_unique_short_and_plain() -> None:
    codes = [site.code for site in BODY_SITES]
    assert [code for code, n in Counter(codes).items() if n > 1] == []
    for code in codes:
        assert re.fullmatch(r"[a-z][a-z_]*", code), code
        assert len(code) <= 40  # Lesion.body_site is a CharField(max_length=40)


def test_a_dermatologist_gets_enough_sites() -> None:
    assert 30 <= len(BODY_SITES) <= 45
    for code in ("scalp", "face", "ear", "chest", "abdomen", "upper_back", "lower_back", "buttock"):
        assert is_valid_site(code), code
    for code in ("palm", "hand_back", "sole", "foot_top", "genitals", "fingers", "toes"):
        assert is_valid_site(code), code


def test_every_site_is_drawn_in_at_least_one_view() -> None:
    for site in BODY_SITES:
        assert site.views, site.code
        assert set(site.views) <= set(VIEWS), site.code
        assert len(set(site.views)) == len(site.views), site.code


def test_labels_and_groups_are_lazy_translations_with_text() -> None:
    for site in BODY_SITES:
        assert str(site.label).strip(), site.code
        assert str(site.group).strip(), site.code
        assert not isinstance(site.label, str), f"{site.code}: label must be gettext_lazy"


def test_paired_sites_are_one_site_each() -> None:
    with translation.override("en"):
        labels = [str(site.label).lower() for site in BODY_SITES]
    assert not [label for label in labels if "right" in label or "left" in label]
    for code in (
        "ear",
        "shoulder",
        "forearm_front",
        "palm",
        "thigh_front",
        "shin",
        "sole",
        "breast",
    ):
        assert get_site(code).lateral, code
    for code in (
        "scalp",
        "face",
        "chest",
        "abdomen",
        "upper_back",
        "lower_back",
        "genitals",
        "perianal",
    ):
        assert not get_site(code).lateral, code


def test_snomed_codes_are_sctids_with_a_display() -> None:
    for site in BODY_SITES:
        if site.snomed_code is None:
            assert site.snomed_display is None, site.code
            continue
        assert re.fullmatch(r"[1-9]\d{5,17}", site.snomed_code), site.code
        assert site.snomed_display, site.code
    assert get_site("face").snomed_code == "89545001"
    assert get_site("scalp").snomed_code == "41695006"


def test_get_site_and_is_valid_site() -> None:
    assert get_site("face").isic_site == "Head and neck:Head:Face"
    assert is_valid_site("face")
    assert not is_valid_site("elbow-of-mars")
    assert not is_valid_site("")
    with pytest.raises(KeyError):
        get_site("elbow-of-mars")


def test_body_site_is_frozen() -> None:
    site = get_site("face")
    with pytest.raises(FrozenInstanceError):
        site.code = "nose"  # type: ignore[misc]


def test_site_choices_list_every_site_exactly_once_in_groups() -> None:
    choices = site_choices()
    codes = [code for _group, options in choices for code, _label in options]
    assert Counter(codes) == Counter(site.code for site in BODY_SITES)
    assert len({group for group, _options in choices}) == len(choices)
    for group, options in choices:
        assert isinstance(group, str)
        assert options
        for code, label in options:
            assert label == str(get_site(code).label)
            assert str(get_site(code).group) == group


def test_laterality_is_the_patients_side() -> None:
    assert Laterality.values == ["R", "L", "B", "U"]
    assert Laterality.RIGHT == "R"
    assert Laterality.UNPAIRED == "U"
    assert "patient" in str(Laterality.RIGHT.label)
    assert "patient" in str(Laterality.LEFT.label)


# --- The body map ------------------------------------------------------------------------------


def test_bodymap_draws_every_site_of_each_view_as_an_accessible_button() -> None:
    page = parse(render_bodymap())
    assert sorted(page.svg_views) == sorted(VIEWS)
    for view in VIEWS:
        drawn = {region.attrs["data-site"] for region in page.regions if region.view == view}
        assert drawn == {site.code for site in sites_in_view(view)}, view
    for region in page.regions:
        site = get_site(region.attrs["data-site"])
        assert region.tag in {"path", "rect", "ellipse", "circle", "polygon"}
        assert region.attrs["role"] == "button"
        assert region.attrs["tabindex"] == "0"
        assert region.attrs["aria-label"].startswith(str(site.label)), site.code
        assert region.title.strip() == region.attrs["aria-label"], site.code


def test_paired_sites_have_a_shape_for_each_side_on_the_patients_side() -> None:
    page = parse(render_bodymap())
    for region in page.regions:
        site = get_site(region.attrs["data-site"])
        if not site.lateral:
            assert "data-side" not in region.attrs, site.code
            assert region.attrs["aria-label"] == str(site.label)
            continue
        side = region.attrs["data-side"]
        assert side in {"R", "L"}
        # Front view: the patient's right is on the viewer's left. Back view: on the viewer's right.
        on_viewers_left = mean_x(region) < VIEWBOX_CENTRE_X
        assert on_viewers_left == ((side == "R") == (region.view == "front")), (
            site.code,
            region.view,
            side,
        )
    for site in BODY_SITES:
        if site.lateral:
            for view in site.views:
                sides = sorted(
                    r.attrs["data-side"]
                    for r in page.regions
                    if r.view == view and r.attrs["data-site"] == site.code
                )
                assert sides == ["L", "R"], (site.code, view)


def test_bodymap_has_the_list_alternative_with_every_code_and_the_side() -> None:
    html = render_bodymap()
    page = parse(html)
    assert Counter(page.options) == Counter(site.code for site in BODY_SITES)
    assert "laterality" in page.selects
    assert '<label for="id_body_site">Body site' in html
    assert 'aria-live="polite"' in html
    assert 'data-site-select="id_body_site"' in html
    assert 'data-side-select="id_laterality"' in html


def test_bodymap_keeps_a_posted_choice_selected() -> None:
    html = render_bodymap({"body_site": "forearm_front", "laterality": "L"})
    assert re.search(r'<option value="forearm_front"[^>]*selected', html)
    assert re.search(r'<option value="L"[^>]*selected', html)


def test_bodymap_needs_no_inline_style_or_script() -> None:
    html = render_bodymap()
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)
    assert "<style" not in html.lower()
    page = parse(html)
    assert page.scripts, "bodymap.js is loaded by the include"
    assert all(script.get("src") for script in page.scripts)
    assert re.search(r"<script[^>]*\bsrc=\"[^\"]*telederm/bodymap\.js\"[^>]*\bdefer", html)
    assert re.search(r"<link rel=\"stylesheet\" href=\"[^\"]*telederm/bodymap\.css\"", html)
    assert not re.search(r"\son[a-z]+\s*=", html), "no inline event handlers"


def test_bodymap_static_files_exist() -> None:
    static = Path(settings.BASE_DIR) / "telederm" / "static" / "telederm"
    assert (static / "bodymap.css").is_file()
    assert (static / "bodymap.js").is_file()
