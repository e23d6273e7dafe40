#!/bin/sh
# Regenerates po/latchkey.pot from the sources in po/POTFILES.in and merges it
# into every po/<lang>.po listed in po/LINGUAS. Run from anywhere:
#   sh po/update.sh
set -eu
cd "$(dirname "$0")/.."
files=$(grep -v '^#' po/POTFILES.in | grep -v '^$')
xgettext --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: \
    --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
    --keyword=g_dngettext:2,3 --keyword=ngettext:1,2 \
    --package-name=latchkey \
    --sort-by-file -o po/latchkey.pot $files
for lang in $(grep -v '^#' po/LINGUAS); do
    msgmerge --quiet --update --backup=none po/"$lang".po po/latchkey.pot
    # Untranslated or fuzzy strings show in English; say how many are left.
    msgfmt --check --statistics -o /dev/null po/"$lang".po
done
