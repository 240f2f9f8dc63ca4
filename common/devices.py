"""Devices in a patient's words: Essure and Adiana (tube inserts, checked by a confirmation
test), and the birth control an HSG does not check (IUDs, arm implants), which patients
mix up with them. Used by the date logic (actions/) and the pipeline (components/)."""

from __future__ import annotations

import re

from common.late_period import fold

# Birth control that an HSG does not check: IUDs and arm implants (patients mix them up with
# Essure and Adiana). Matched on folded text, English and Spanish.
RE_OTHER_DEVICE = re.compile(
    r"\b(?:iuds?|mirena|paragard|para\s+gard|kyleena|skyla|liletta|copper\s+(?:iud|coil|t)|coil|nexplanon|implanon"
    r"|(?:arm|birth\s+control|contraceptive|hormone|hormonal)\s+implant|implant\s+in\s+(?:my|the|her)\s+arm"
    r"|diu|t\s+de\s+cobre|implante\s+(?:anticonceptivo|hormonal|subdermico|en\s+el\s+brazo|del\s+brazo|de\s+brazo)"
    r"|(?:el\s+)?implante\s+(?:en\s+)?(?:mi|el)\s+brazo)\b"
)
RE_TUBE_DEVICE = re.compile(
    r"\b(?:essure|esure|essur|adiana|micro-?inserts?|microinsertos?|espirales?\s+en\s+las\s+trompas)\b"
)


def names_other_device(text: str) -> bool:
    """True when the message names an IUD or an arm implant and not Essure or Adiana."""
    folded = fold(text)
    return bool(RE_OTHER_DEVICE.search(folded)) and not RE_TUBE_DEVICE.search(folded)


def names_adiana(text: str) -> bool:
    """True when the message names Adiana."""
    return "adiana" in fold(text)
