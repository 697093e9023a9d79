"""Quality warnings on real (ISIC, CC0) and synthetic 12 MP photos, through the whole ingest."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from telederm.images import synthetic
from telederm.images.processing import IngestResult, ingest
from telederm.images.quality import QualityMetrics, Thresholds, detect_field

PHONE = synthetic.PHONE_SIZE
LESION = "ISIC_0000164"
# Clearly out of focus on a screen: Gaussian sigma 8 px at 4032 px (2 px on the 1024 px copy).
DEFOCUS = 8.0


def jpeg(im: Image.Image) -> bytes:
    return synthetic.encode_jpeg(im, exif=synthetic.PhotoExif())


def quality(im: Image.Image, kind: str) -> QualityMetrics:
    return ingest(jpeg(im), kind=kind).quality


@pytest.fixture(scope="module")
def dermoscopic() -> Image.Image:
    return synthetic.dermoscopic_photo(synthetic.isic_image(LESION), seed=11)


@pytest.fixture(scope="module")
def overview() -> Image.Image:
    return synthetic.overview_photo(synthetic.isic_image(LESION), seed=11)


@pytest.fixture(scope="module")
def dermoscopic_result(dermoscopic: Image.Image) -> IngestResult:
    return ingest(jpeg(dermoscopic), kind="dermoscopic")


# --- real dermoscopic images ---------------------------------------------------------------------


def test_testdata_holds_a_mix_of_nevi_and_melanomas() -> None:
    import json

    metadata = json.loads((synthetic.TESTDATA / "metadata.json").read_text())
    assert {p.stem for p in synthetic.isic_paths()} == set(metadata)
    diagnoses = [entry["diagnosis"] for entry in metadata.values()]
    assert diagnoses.count("melanoma") >= 5
    assert diagnoses.count("nevus") >= 5


@pytest.mark.parametrize("path", synthetic.isic_paths(), ids=lambda p: p.stem)
def test_isic_images_are_accepted_without_exposure_or_blur_warnings(path: Path) -> None:
    result = ingest(path.read_bytes(), kind="dermoscopic")
    q = result.quality
    assert q.dermoscopic_field is True
    assert not {"blurry", "overexposed", "underexposed"} & set(q.warnings)
    # 250 px thumbnails: their size is what is wrong with them, and the GP is told so.
    assert q.warnings == ("low_resolution",)


# --- synthetic 12 MP photos ----------------------------------------------------------------------


def test_sharp_dermoscopic_photo_has_no_warnings(dermoscopic_result: IngestResult) -> None:
    q = dermoscopic_result.quality
    assert q.warnings == ()
    assert q.dermoscopic_field is True
    assert (q.width, q.height) == PHONE
    assert q.megapixels == pytest.approx(12.19, abs=0.01)


def test_dark_vignette_is_not_counted_as_shadow(dermoscopic_result: IngestResult) -> None:
    # About 40 % of the frame is the black surround of the field; it is outside the region.
    q = dermoscopic_result.quality
    assert q.clipped_shadows < 0.01
    assert 100 < q.mean_brightness < 200


def test_sharp_overview_photo_has_no_warnings(overview: Image.Image) -> None:
    q = quality(overview, "overview")
    assert q.warnings == ()
    assert q.dermoscopic_field is None


def test_defocused_dermoscopic_photo_warns_blurry(dermoscopic_result: IngestResult) -> None:
    blurred = synthetic.dermoscopic_photo(synthetic.isic_image(LESION), seed=11, defocus=DEFOCUS)
    q = quality(blurred, "dermoscopic")
    assert q.warnings == ("blurry",)
    assert q.sharpness < Thresholds().min_sharpness < dermoscopic_result.quality.sharpness / 10


def test_defocused_overview_photo_warns_blurry() -> None:
    blurred = synthetic.overview_photo(synthetic.isic_image(LESION), seed=11, defocus=DEFOCUS)
    assert quality(blurred, "overview").warnings == ("blurry",)


def test_blurring_a_finished_photo_warns_blurry(dermoscopic: Image.Image) -> None:
    assert "blurry" in quality(synthetic.blurred(dermoscopic), "dermoscopic").warnings


def test_slight_softness_is_not_called_blurry() -> None:
    # Sigma 3 px at 12 MP is 0.02 mm on the skin through a dermatoscope: no loss to a reader.
    soft = synthetic.dermoscopic_photo(synthetic.isic_image(LESION), seed=11, defocus=3)
    assert "blurry" not in quality(soft, "dermoscopic").warnings


def test_sharpness_hardly_depends_on_resolution(
    dermoscopic: Image.Image, dermoscopic_result: IngestResult
) -> None:
    base = dermoscopic_result.quality.sharpness
    for size in ((2016, 1512), (8064, 6048)):
        scaled = dermoscopic.resize(size, Image.Resampling.LANCZOS)
        assert 0.6 < quality(scaled, "dermoscopic").sharpness / base < 1.6


def test_overexposed_photos_warn(dermoscopic: Image.Image, overview: Image.Image) -> None:
    assert quality(synthetic.exposed(dermoscopic, 1.8), "dermoscopic").warnings == ("overexposed",)
    assert quality(synthetic.exposed(overview, 1.5), "overview").warnings == ("overexposed",)


def test_underexposed_photos_warn_and_keep_their_field(
    dermoscopic: Image.Image, overview: Image.Image
) -> None:
    dark = quality(synthetic.exposed(dermoscopic, 0.25), "dermoscopic")
    assert "underexposed" in dark.warnings
    assert dark.dermoscopic_field is True
    assert "underexposed" in quality(synthetic.exposed(overview, 0.25), "overview").warnings


def test_overview_photo_sent_as_dermoscopic_has_no_field(overview: Image.Image) -> None:
    q = quality(overview, "dermoscopic")
    assert q.dermoscopic_field is False
    assert q.warnings == ("no_dermoscopic_field",)


@pytest.mark.parametrize("level", [128, 200])
def test_plain_grey_surface_has_no_field(level: int) -> None:
    q = quality(synthetic.grey_photo(size=(2016, 1512), level=level), "dermoscopic")
    assert q.dermoscopic_field is False
    assert "no_dermoscopic_field" in q.warnings


@pytest.mark.parametrize("path", synthetic.isic_paths()[:4], ids=lambda p: p.stem)
def test_frame_filling_contact_dermoscopy_is_recognised(path: Path) -> None:
    # The lesion enlarged to fill a 4:3 frame, as in contact dermoscopy without a vignette.
    with Image.open(path) as im:
        lesion = im.convert("RGB").crop((25, 45, 225, 195)).resize((1600, 1200))
    field, region = detect_field(lesion.resize((1024, 768)), Thresholds())
    assert field is True
    assert region is None


def test_low_resolution_depends_on_the_kind(dermoscopic: Image.Image) -> None:
    small = jpeg(dermoscopic.resize((1280, 960), Image.Resampling.LANCZOS))  # 1.2 MP
    assert "low_resolution" in ingest(small, kind="overview").quality.warnings
    assert "low_resolution" not in ingest(small, kind="dermoscopic").quality.warnings


def test_thresholds_can_be_tightened(dermoscopic: Image.Image) -> None:
    strict = Thresholds(min_sharpness=1e9, min_megapixels_dermoscopic=50)
    q = ingest(jpeg(dermoscopic), kind="dermoscopic", thresholds=strict).quality
    assert q.warnings == ("blurry", "low_resolution")


def test_screen_copy_of_a_12mp_photo_is_about_2048_px(dermoscopic_result: IngestResult) -> None:
    screen = Image.open(io.BytesIO(dermoscopic_result.screen_jpeg))
    assert screen.size == (2016, 1512)
