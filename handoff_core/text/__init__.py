"""Text handling shared by every trigger: folding, tokens, stems, language, phrase matching."""
