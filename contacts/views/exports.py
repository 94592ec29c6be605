"""Export of the current filtered list (same filters, same scoping as the page: the list kit).

CSV (streamed) or XLSX; the spec's export permission is checked by `crm.exports`, invalid
filters are a 400 with their errors and no rows."""

from __future__ import annotations

from contacts.lists import COMPANIES, CONTACTS
from crm.exports import export_view

contact_export = export_view(CONTACTS)
company_export = export_view(COMPANIES)
