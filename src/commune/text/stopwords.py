"""Function words for French and English.

Used to drop noise from lexical queries and to tell French from English on
texts too short for n-gram language identification. Short lists on purpose:
content words such as "pas" or "plus" are kept out where they carry meaning in
technical questions.
"""

from __future__ import annotations

STOPWORDS: dict[str, frozenset[str]] = {
    "fr": frozenset(
        """a afin ai aie aient ainsi alors as au aucun aupres auquel aussi autre aux auxquelles
        auxquels avait avant avec avez aviez avoir avons ayant c ca ce ceci cela celle celles celui
        cependant certain certaines certains ces cet cette ceux chacun chaque chez ci comme comment
        d dans de des desquelles desquels donc dont du duquel elle elles en encore entre es est et
        etaient etait etant ete etre eu eux fait faire fais ils il j je jusqu l la laquelle le
        lequel les lesquelles lesquels leur leurs lors lui m ma mais me meme mes moi mon n ne ni
        nos notre nous on ont ou où par parce pendant peu peut peuvent pour pourquoi puis qu quand
        que quel quelle quelles quels qui quoi s sa sans se ses si sien soi soit son sont sous
        suis sur t ta te tes toi ton tous tout toute toutes tu un une unes uns vos votre vous y
        à ça déjà étaient était étant été être quelqu faut doit dois veux voudrais""".split()
    ),
    "en": frozenset(
        """a about above after again against all am an and any are as at be because been before
        being below between both but by can could did do does doing down during each few for from
        further had has have having he her here hers herself him himself his how i if in into is
        it its itself just me more most my myself no nor of off on once only or other our ours
        ourselves out over own same she should so some such than that the their theirs them
        themselves then there these they this those through to too under until up very was we
        were what when where which while who whom why will with would you your yours yourself
        yourselves i'm can't don't shall may might must""".split()
    ),
}
