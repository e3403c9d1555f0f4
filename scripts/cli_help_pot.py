"""Write the template of the CLI's help catalogue (every command's and option's English help,
as click prints it: cli/helptext.py) to the path given; scripts/i18n.sh merges it into
src/commune/cli/locale/fr/LC_MESSAGES/help.po."""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from commune.cli import cli
from commune.cli.helptext import texts

if __name__ == "__main__":
    catalogue = Catalog(project="Commune", domain="help")
    for text in texts(cli):
        catalogue.add(text)
    with open(sys.argv[1], "wb") as f:
        write_po(f, catalogue, width=0, omit_header=False, sort_output=True)
