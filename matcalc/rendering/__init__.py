"""Output formats: text and HTML reports, formula notation, the cheat sheets."""
