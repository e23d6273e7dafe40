# Shared by the session scripts: the integration kit, a Chromium, and the
# fixture page served on loopback. The caller sets CTL HELPER SERVE FIXTURES.
# Afterwards: CHROMIUM (also exported as LATCHKEY_CHROMIUM), PORT, BASE.
# FIXTURE_LIFETIME (seconds, 900) bounds the server's life for longer runs.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

CHROMIUM=${LATCHKEY_CHROMIUM:-$(command -v chromium || command -v google-chrome || true)}
[ -n "$CHROMIUM" ] || { bad "no Chromium found (installer/deps/debian.sh test installs it)"; finish; exit 1; }
export LATCHKEY_CHROMIUM=$CHROMIUM

"$SERVE" --root "$FIXTURES" --port-file "$WORK/port" --lifetime "${FIXTURE_LIFETIME:-900}" >/dev/null 2>&1 &
track "$!"
for i in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.02; done
PORT=$(cat "$WORK/port")
BASE="http://127.0.0.1:$PORT/whatsapp.html"
