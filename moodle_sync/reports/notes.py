"""What a report table says about itself in Swedish: its title and the notes on what was counted and how.

The notes name the period, define each measure shown, say how people in several rows or course versions
are counted, name the courses where Moodle tracks no completion, explain the dash ("–", nothing to count,
not zero) and warn when some completion dates are only when the tool first saw them.
"""

from __future__ import annotations

from collections.abc import Sequence

from moodle_sync.reports.dimensions import DIMENSION_NOUNS
from moodle_sync.reports.measures import TRACKED, Context

__all__ = ["join_words", "table_notes", "table_title"]


def join_words(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " och " + words[-1]


def table_title(dims: Sequence[str]) -> str:
    return "Utbildning per " + join_words([DIMENSION_NOUNS[d] for d in dims]) if dims else "Utbildning totalt"


def table_notes(dims: Sequence[str], measures: Sequence[str], ctx: Context, approximate: bool, *,
           pivot: bool = False, untracked: Sequence[str] = (), dashed: bool = False) -> list[str]:
    period, as_of = ctx.period, ctx.as_of
    notes: list[str] = []
    if period is not None:
        notes.append(f"Period: {period[0]:%Y-%m-%d}–{period[1]:%Y-%m-%d}.")
    if "enrolled" in measures:
        until = f", inskrivna senast {period[1]:%Y-%m-%d}" if period else ""
        notes.append(f"Inskrivna: personer med en aktiv eller avstängd inskrivning på kursversionen{until}.")
    if "reached" in measures:
        notes.append("Nådda: personer som skrevs in under perioden (aktiva eller avstängda inskrivningar).")
    if "completed" in measures:
        within = " under perioden" if period else ""
        notes.append(f"Genomförda: personer som slutförde kursversionen{within}, oavsett när de skrevs in.")
    if TRACKED in measures:
        notes.append("Inskrivna där slutförandet följs: inskrivna på kursversioner där Moodle följer slutförandet; "
                     "de är nämnaren i Andel genomförda.")
    if "completion_rate" in measures:
        notes.append("Andel genomförda = genomförda / inskrivna där slutförandet följs.")
    if "completed_current" in measures or "completed_superseded" in measures:
        notes.append("Aktuell version = kursens nuvarande huvudversion; äldre version = en tidigare "
                     "huvudversion (genomförandet gäller som historik).")
    if "past_deadline" in measures:
        notes.append(f"Ej genomförda, sista dag passerad: aktiva inskrivningar som inte var slutförda "
                     f"{as_of:%Y-%m-%d} och vars sista dag hade passerat.")
    if "refresher_due" in measures:
        notes.append(f"Dags för repetition: aktiva inskrivningar med repetitionsdatum senast {as_of:%Y-%m-%d}.")
    if period is not None and ("enrolled" in measures or "reached" in measures):
        notes.append("En inskrivning utan datum räknas från slutförandedatumet, och inte alls om även det saknas.")
    # the unit is a person in a course version (a fact): every count is a sum of groups of them (.groups)
    if pivot:
        several = (" En person i flera målgrupper räknas i varje målgrupp, så målgrupperna kan summera till "
                   "mer än Totalt." if "target_group" in dims else "")
        notes.append("Varje person räknas en gång per cell och kursversion; kolumnen Totalt och raden Totalt "
                     f"räknar en person i flera målgrupper en gång.{several}")
    else:
        where = ("i båda raderna och två gånger i totalen" if "course" in dims
                 else "två gånger, i sin rad och i totalen")
        notes.append("Varje person räknas en gång per kursversion: den som är inskriven på två kursversioner "
                     f"räknas {where}.")
        if "target_group" in dims:
            notes.append("En person i flera målgrupper räknas i varje målgrupp men bara en gång i totalen, så "
                         "raderna kan summera till mer än totalen.")
    if "course" in dims:
        notes.append("Version = kursens huvudversion som personen är inskriven på.")
    if "period" in dims:
        notes.append("Månad = månaden då det räknade inträffade: inskrivning för inskrivna och nådda, "
                     "slutförande för genomförda, sista dag respektive repetitionsdatum för övriga.")
    if untracked:
        lacks = "kursen saknar" if len(untracked) == 1 else "kurserna saknar"
        notes.append(f"Moodle följer inte slutförandet av {join_words(untracked)} ({lacks} villkor för slutförande "
                     "eller har slutförandet avstängt): "
                     "där räknas inskrivna, men ingen kan räknas som genomförd eller som sen.")
    if dashed:
        notes.append("Streck (–): Moodle följer inte slutförandet för någon i raden, så där finns inga genomförda, "
                     "sena eller repetitioner att räkna (det betyder inte noll).")
    if approximate:
        notes.append("Vissa slutförandedatum är ungefärliga: de anger när uppgiften först hämtades från "
                     "Moodle, inte när kursen slutfördes.")
    return notes
