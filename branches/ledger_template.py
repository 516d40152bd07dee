"""The 台账 template a secretary downloads from the import page.

Built from the registered sheets' column tables, so a new column appears in the template
without touching this module: every sheet, its headers (required ones bold), one example
row, and a drop-down list for every column with fixed choices (类型, 状态, 职务 ...).
Written with openpyxl directly: this is an input form, not an export of records.
"""

from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .ledger import registered_sheets

# Rows a drop-down list covers below the header.
VALIDATION_ROWS = 5000
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")


def ledger_template() -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for handler in registered_sheets():
        sheet = workbook.create_sheet(handler.sheet)
        columns = handler.columns
        sheet.append([c.header for c in columns])
        sheet.append([c.example for c in columns])
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            head = sheet.cell(row=1, column=index)
            head.font = Font(bold=True)
            if column.required:
                head.fill = _REQUIRED_FILL
            example = sheet.cell(row=2, column=index)
            if isinstance(column.example, dt.date):
                example.number_format = "yyyy-mm-dd"
            width = max(len(column.header), len(str(column.example or ""))) * 2 + 2
            sheet.column_dimensions[letter].width = min(max(width, 10), 40)
            if column.choices:
                choices = ",".join(c for c in column.choices if c)
                validation = DataValidation(
                    type="list",
                    formula1=f'"{choices}"',
                    allow_blank=not column.required,
                    showErrorMessage=True,
                    errorTitle=_("不在可选范围内"),
                    error=_("%(c)s可填：%(ok)s") % {"c": column.header, "ok": choices},
                )
                validation.add(f"{letter}2:{letter}{VALIDATION_ROWS + 1}")
                sheet.add_data_validation(validation)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
