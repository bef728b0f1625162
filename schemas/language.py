"""What every page and message in two languages shares: Bahasa Indonesia first, English as the choice."""

from __future__ import annotations

from typing import Final

#: Month names, January first.
MONTHS: Final = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip
