"""The reporter's two cells of the ledger's rows written by PostgreSQL (app/stats/ledger_sql.py):
the only cells written in Python there, as the case list's access rules decide them
(``People``), once for each reporter and what the caller sees of them."""

from __future__ import annotations

from typing import Any, Final, Literal

from app.stats.ledger import LEDGER_HEADERS, People
from app.stats.tabular import column_letters, csv_fields, inline_string_xml, text_xml

FileFormat = Literal["csv", "xlsx"]
Shown = tuple[str | None, str | None]  # the reporter's name and phone number, or None

# What People reads of a row: the statement's columns after the text and the row's number.
PEOPLE_KEY: Final = slice(3, 3 + len(People.READS))
LETTERS: Final = column_letters(len(LEDGER_HEADERS))
PEOPLE_AT: Final = LEDGER_HEADERS.index("上报人")  # the reporter, then the phone number
_NAME_LETTER, _PHONE_LETTER = LETTERS[PEOPLE_AT], LETTERS[PEOPLE_AT + 1]


class PeopleCells:
    """The reporter's two cells of each row as the file has them, in UTF-8, written once for
    each reporter, case's place and source (what ``People`` decides by)."""

    def __init__(self, people: People, file_format: FileFormat) -> None:
        self.people = people
        self._lines: dict[tuple[Any, ...], bytes] = {}
        self._shown_lines: dict[Shown, bytes] = {}
        self._texts: dict[tuple[Any, ...], Shown] = {}
        self.write = self._in_a_line if file_format == "csv" else self._in_a_row

    def _in_a_line(self, row: Any) -> bytes:
        line = self._lines.get(key := row[PEOPLE_KEY])
        if line is None:
            shown = self.people.cells(row)
            line = self._shown_lines.get(shown)
            if line is None:
                line = self._shown_lines[shown] = csv_fields(shown).encode()
            self._lines[key] = line
        return line

    def _in_a_row(self, row: Any) -> bytes:
        texts = self._texts.get(key := row[PEOPLE_KEY])
        if texts is None:
            name, phone = (
                None if cell is None else text_xml(cell) for cell in self.people.cells(row)
            )
            texts = self._texts[key] = (name, phone)
        name, phone = texts
        number = row.row_number
        return (
            ("" if name is None else inline_string_xml(f"{_NAME_LETTER}{number}", name))
            + ("" if phone is None else inline_string_xml(f"{_PHONE_LETTER}{number}", phone))
        ).encode()
