"""One way to write a moment, a length and a day: what the notes, the page, the editor and the logs all show."""

from datetime import datetime

import pytest

from audio_edition import clock


@pytest.mark.parametrize("seconds, written", [(0, "00:00"), (4.99, "00:04"), (252.7, "04:12"), (3599.9, "59:59"),
                                              (3723, "1:02:03"), (-1, "00:00")])
def test_a_moment_is_rounded_down_so_a_tap_never_lands_after_it(seconds, written):
    assert clock.position(seconds) == written


@pytest.mark.parametrize("seconds, written", [(0.4, "0 s"), (42, "42 s"), (60, "1 min"), (252, "4 min 12 s"),
                                              (929, "15 min"), (3600, "1 h"), (3900, "1 h 5 min")])
def test_a_length_says_as_much_as_a_person_needs(seconds, written):
    assert clock.duration(seconds) == written


def test_a_day_is_written_in_english_whatever_the_locale():
    assert clock.date(datetime(2019, 10, 2)) == "October 2, 2019"
