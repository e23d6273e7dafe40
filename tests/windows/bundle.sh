#!/usr/bin/env bash
# The Windows app folder, as installed (the stage in the build folder, made
# by the same install rules as the installer): its bin\ holds exactly the
# DLLs that latchkey.exe and latchkeyctl.exe import, directly or through one
# another, found by walking their import tables with objdump -p; every other
# import is a Windows system DLL; no compiler runtime DLL is needed; GTK's
# data is where GTK looks for it, relative to its DLL.
#   bundle.sh OBJDUMP STAGE
. "$(dirname "$0")/../integration/lib.sh"
OBJDUMP=$1 STAGE=$2
BIN=$STAGE/bin
[ -f "$BIN/latchkey.exe" ] || { bad "no $BIN/latchkey.exe (build the mingw preset)"; finish; exit 1; }

# Windows' own DLLs (lower case), which no installer ships.
system_dll() {
    case "$1" in
    api-ms-win-* | ext-ms-*) return 0 ;;
    advapi32.dll | bcrypt.dll | comctl32.dll | comdlg32.dll | crypt32.dll | dnsapi.dll | dwmapi.dll | \
        dwrite.dll | gdi32.dll | gdiplus.dll | hid.dll | imm32.dll | iphlpapi.dll | kernel32.dll | \
        msimg32.dll | msvcrt.dll | ntdll.dll | ole32.dll | oleaut32.dll | opengl32.dll | psapi.dll | \
        rpcrt4.dll | rstrtmgr.dll | setupapi.dll | shell32.dll | shlwapi.dll | user32.dll | \
        userenv.dll | usp10.dll | uxtheme.dll | version.dll | winmm.dll | winspool.drv | ws2_32.dll | \
        wsock32.dll | secur32.dll | normaliz.dll | wldap32.dll | cfgmgr32.dll | ucrtbase.dll)
        return 0 ;;
    esac
    return 1
}

imports() { "$OBJDUMP" -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | tr -d '\r'; }

declare -A in_bin=() reached=() unknown=()
for f in "$BIN"/*.dll; do
    [ -e "$f" ] && in_bin[$(basename "$f" | tr 'A-Z' 'a-z')]=$(basename "$f")
done
queue=(latchkey.exe latchkeyctl.exe)
reached[latchkey.exe]=1
reached[latchkeyctl.exe]=1
while [ ${#queue[@]} -gt 0 ]; do
    cur=${queue[0]}
    queue=("${queue[@]:1}")
    real=${in_bin[$cur]:-$cur}
    for d in $(imports "$BIN/$real"); do
        if [ -n "${in_bin[$d]:-}" ]; then
            if [ -z "${reached[$d]:-}" ]; then
                reached[$d]=1
                queue+=("$d")
            fi
        elif ! system_dll "$d"; then
            unknown[$d]=1
        fi
    done
done
extra=()
for d in "${!in_bin[@]}"; do [ -n "${reached[$d]:-}" ] || extra+=("$d"); done
ndll=$(( ${#reached[@]} - 2 ))
echo "DLLs imported, directly or not: $ndll; in bin: ${#in_bin[@]}"
check "every DLL the programs import is in bin (missing: ${!unknown[*]})" test ${#unknown[@]} -eq 0
check "bin holds no DLL that nothing imports (extra: ${extra[*]})" test ${#extra[@]} -eq 0
check "no compiler runtime DLL is needed (libgcc_s, libstdc++, libwinpthread)" \
    bash -c '! ls "$1" | grep -Eiq "^(libgcc_s|libstdc\+\+|libwinpthread)"' _ "$BIN"
check "latchkeyctl.exe needs system DLLs only" \
    bash -c '! "$1" -p "$2" | grep -q "DLL Name: \(lib\|zlib\)"' _ "$OBJDUMP" "$BIN/latchkeyctl.exe"
check "latchkey.exe is a GUI program (no console window)" \
    bash -c '"$1" -p "$2" | grep -q "^Subsystem.*(Windows GUI)"' _ "$OBJDUMP" "$BIN/latchkey.exe"
check "GTK's settings schemas are compiled beside it" \
    test -s "$STAGE/share/glib-2.0/schemas/gschemas.compiled"
check "the Adwaita icons GTK asks for are there (PNG, with the theme's index)" \
    bash -c 'test -f "$1/index.theme" && ls "$1"/16x16/ui/pan-down-symbolic.symbolic.png >/dev/null' \
    _ "$STAGE/share/icons/Adwaita"
check "the app's own icons are in hicolor" test -f "$STAGE/share/icons/hicolor/16x16/apps/latchkey.png"
check "no SVG icon (no SVG loader on Windows)" \
    bash -c '[ -z "$(find "$1/share/icons/Adwaita" -name "*.svg")" ]' _ "$STAGE"
check "the Indonesian catalogues: the app's, GTK's and GLib's" bash -c \
    'for d in latchkey gtk30 glib20; do test -f "$1/share/locale/id/LC_MESSAGES/$d.mo" || exit 1; done' \
    _ "$STAGE"
check "the site profiles" test -f "$STAGE/share/latchkey/profiles/whatsapp-web.json"
echo "app folder: $(du -sh "$STAGE" | cut -f1) ($(du -sh "$BIN" | cut -f1) in bin, $(du -sh "$STAGE/share/icons" | cut -f1) of icons)"
finish
