"""
Show the LaTeX that paper titles carry ($\\mathcal{B}$-Coder, $k$-NN, $\\alpha$-divergence) as plain
Unicode text: readable in a list, in a calendar, in an e-mail. Anything not understood loses only
its markup, never its letters.
"""

import re
import unicodedata

GREEK = {
    name: chr(code)
    for name, code in {
        "alpha": 0x3B1, "beta": 0x3B2, "gamma": 0x3B3, "delta": 0x3B4, "epsilon": 0x3B5, "varepsilon": 0x3B5,
        "zeta": 0x3B6, "eta": 0x3B7, "theta": 0x3B8, "iota": 0x3B9, "kappa": 0x3BA, "lambda": 0x3BB,
        "mu": 0x3BC, "nu": 0x3BD, "xi": 0x3BE, "pi": 0x3C0, "rho": 0x3C1, "sigma": 0x3C3, "tau": 0x3C4,
        "upsilon": 0x3C5, "phi": 0x3C6, "varphi": 0x3C6, "chi": 0x3C7, "psi": 0x3C8, "omega": 0x3C9,
        "Gamma": 0x393, "Delta": 0x394, "Theta": 0x398, "Lambda": 0x39B, "Xi": 0x39E, "Pi": 0x3A0,
        "Sigma": 0x3A3, "Phi": 0x3A6, "Psi": 0x3A8, "Omega": 0x3A9,
    }.items()
}  # fmt: skip
SYMBOLS = {
    "infty": "∞", "times": "×", "cdot": "·", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠",
    "approx": "≈", "sim": "∼", "to": "→", "rightarrow": "→", "leftarrow": "←", "in": "∈", "ell": "ℓ",
    "exists": "∃", "forall": "∀",
    "nabla": "∇", "partial": "∂", "sqrt": "√", "pm": "±", "star": "⋆", "ast": "∗", "dagger": "†",
}  # fmt: skip
SUPERSCRIPT = str.maketrans("0123456789+-=()nitk", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵗᵏ")
SUBSCRIPT = str.maketrans("0123456789+-=()aeiklmnopstx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢₖₗₘₙₒₚₛₜₓ")


def _alphabet(letter: str, upper_start: int, lower_start: int | None, exceptions: dict[str, str]) -> str:
    if letter in exceptions:
        return exceptions[letter]
    if "A" <= letter <= "Z":
        return chr(upper_start + ord(letter) - ord("A"))
    if lower_start is not None and "a" <= letter <= "z":
        return chr(lower_start + ord(letter) - ord("a"))
    return letter


# Unicode keeps a few letters of each alphabet in the Letterlike Symbols block instead.
CALLIGRAPHIC = {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ"}
DOUBLE_STRUCK = {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"}
FRAKTUR = {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"}
FONTS = {
    "mathcal": lambda c: _alphabet(c, 0x1D49C, None, CALLIGRAPHIC),
    "mathbb": lambda c: _alphabet(c, 0x1D538, None, DOUBLE_STRUCK),
    "mathfrak": lambda c: _alphabet(c, 0x1D504, None, FRAKTUR),
}
FONT = re.compile(r"\\(mathcal|mathbb|mathfrak)\s*\{([^{}]*)\}|\\(mathcal|mathbb|mathfrak)\s*([A-Za-z])")
SCRIPT = re.compile(r"([\^_])(\{([^{}]*)\}|([A-Za-z0-9]))")
COMMAND = re.compile(r"\\([A-Za-z]+)\s*")
MATH = re.compile(r"\$([^$]*)\$")
ACCENT = re.compile(r"\\(tilde|hat|bar|'|\"|`|\^|~)\s*\{?([A-Za-z])\}?")
COMBINING = {
    "tilde": "\u0303",
    "~": "\u0303",
    "hat": "\u0302",
    "^": "\u0302",
    "bar": "\u0304",
    "'": "\u0301",
    '"': "\u0308",
    "`": "\u0300",
}


def _script(match: re.Match) -> str:
    text = match.group(3) if match.group(3) is not None else match.group(4)
    table = SUPERSCRIPT if match.group(1) == "^" else SUBSCRIPT
    converted = text.translate(table)
    if all(ch != orig or not ch.isalnum() for ch, orig in zip(converted, text, strict=True)):
        return converted
    return ("^" if match.group(1) == "^" else "_") + text if len(text) == 1 else f"{match.group(1)}({text})"


def _accent(match: re.Match) -> str:
    return unicodedata.normalize("NFC", match.group(2) + COMBINING[match.group(1)])


def _math(text: str) -> str:
    text = ACCENT.sub(_accent, text.strip())
    text = FONT.sub(lambda m: "".join(FONTS[m.group(1) or m.group(3)](c) for c in (m.group(2) or m.group(4))), text)
    text = COMMAND.sub(lambda m: GREEK.get(m.group(1)) or SYMBOLS.get(m.group(1)) or "", text)
    text = SCRIPT.sub(_script, text)
    return text.replace("{", "").replace("}", "").replace("\\", "")


def latex_to_text(title: str) -> str:
    """'$\\mathcal{B}$-Coder' → '\u212c-Coder'; a title without '$' or '\\' comes back unchanged."""
    if "$" not in title and "\\" not in title:
        return title
    text = MATH.sub(lambda m: _math(m.group(1)), title)
    text = ACCENT.sub(_accent, text)
    # Text-mode commands outside math: \textbf{x} → x, \& → &.
    text = re.sub(r"\\(?:textbf|textit|emph|texttt|text|mathrm|mathbf)\s*\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\([&%#_$])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()
