"""Language identification and lexical analysis."""
