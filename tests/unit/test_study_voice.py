"""The study file's `[voice]` table: what it accepts, and refusals that name the field."""

from __future__ import annotations

import pytest

from woz.media.speech import plan_voice
from woz.study import StudyFileError, parse_study
from woz.study.summary import warnings

MINIMAL = """\
[study]
id = "s1"
title = "T"

[[personas]]
id = "p"
"""
UPSTREAM = """
[[upstreams]]
id = "openai"
base_url = "https://api.openai.com/v1"
model = "gpt-4o-mini-tts"
"""


def test_without_a_voice_table_piper_speaks_with_its_bundled_voice() -> None:
    """No `[voice]`: piper with en_US-joe-medium at its own pace (the voice extra is installed)."""
    plan = plan_voice(parse_study(MINIMAL).voice)
    assert (plan.engine, plan.voice, plan.speed, plan.fallback) == (
        "piper",
        "en_US-joe-medium",
        1.0,
        None,
    )


def test_each_engine_has_a_default_voice_and_takes_a_speed() -> None:
    """espeak defaults to en-us, an upstream to alloy; `speed` and `name` are kept."""
    espeak = parse_study(MINIMAL + '[voice]\nengine = "espeak"\nspeed = 1.5\n').voice
    assert (plan_voice(espeak).voice, plan_voice(espeak).speed) == ("en-us", 1.5)
    upstream = parse_study(
        MINIMAL + UPSTREAM + '[voice]\nengine = "upstream"\nupstream = "openai"\nname = "coral"\n'
    ).voice
    assert (plan_voice(upstream).voice, plan_voice(upstream).upstream) == ("coral", "openai")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('engine = "festival"', "<study>:9: field 'voice.engine': Input should be 'piper'"),
        ("speed = 5", "<study>:9: field 'voice.speed': Input should be less than or equal to 4"),
        (
            'engine = "espeak"\nname = "en us; rm -rf"',
            "<study>:10: field 'voice.name': Value error, an espeak-ng voice is a language code",
        ),
        ('name = "../../x y"', "<study>:9: field 'voice.name': Value error, a piper voice is"),
        ('engine = "upstream"', '<study>:8: voice: engine "upstream" needs voice.upstream'),
        ('upstream = "openai"', "<study>:8: voice: voice.upstream is used only with engine ="),
        (
            'engine = "upstream"\nupstream = "nowhere"',
            "<study>: study file: voice.upstream: upstream 'nowhere' is not defined",
        ),
    ],
)
def test_bad_voice_tables_are_refused_naming_the_field(table: str, expected: str) -> None:
    """Each mistake in `[voice]` is refused with the field at fault and, where known, its line."""
    with pytest.raises(StudyFileError) as caught:
        parse_study(MINIMAL + "\n[voice]\n" + table + "\n")
    assert str(caught.value).startswith(expected)


def test_check_warns_of_a_voice_this_machine_cannot_speak() -> None:
    """`woz check` warns when the study's piper voice is not installed here."""
    study = parse_study(MINIMAL + '[voice]\nname = "en_GB-alan-low"\n')
    assert (
        "[voice]: piper has no voice 'en_GB-alan-low' here (installed voices: "
        "en_US-joe-medium): /v1/audio/speech and /v1/realtime will not speak"
    ) in warnings(study)
    assert not [w for w in warnings(parse_study(MINIMAL)) if w.startswith("[voice]")]


def test_kept_audio_must_be_named_in_the_consent_text() -> None:
    """A study that keeps voice recordings says so in the consent participants read."""
    base = '[study]\nid = "s"\ntitle = "t"\n[[personas]]\nid = "p"\n[voice]\nkeep_audio = true\n'
    silent = base.replace(
        'title = "t"\n', 'title = "t"\n[study.consent]\ntext = "We keep chats."\n'
    )
    with pytest.raises(StudyFileError, match="keep_audio"):
        parse_study(silent)
    told = silent.replace("We keep chats.", "We keep chats and audio recordings of your voice.")
    assert parse_study(told).voice.keep_audio


def test_check_warns_of_recordings_kept_without_required_consent() -> None:
    """Keeping voices without asking for consent first is seldom what a study means."""
    kept = warnings(parse_study(MINIMAL + "[voice]\nkeep_audio = true\n"))
    assert any("keep_audio" in w and "consent_required is false" in w for w in kept)
