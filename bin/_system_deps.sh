# Sourced by bin/test (after _bootstrap.sh): the Debian packages some tests need.
#   chromium    the report test draws the charts in headless Chromium (tests/views)
#   chromium-driver  the web tests drive that Chromium through Selenium (tests/web)
#   postgresql  the scale-out tests start a real PostgreSQL server (tests/scale)
# When one is missing and we are root with apt-get (CI, the project's machines), install it;
# otherwise say which tests will skip, and carry on.
_tendon_missing=()
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    _tendon_missing+=(chromium)
fi
if ! command -v chromedriver >/dev/null 2>&1; then
    _tendon_missing+=(chromium-driver)
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    _tendon_missing+=(postgresql)
fi
if [ "${#_tendon_missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        _tendon_log=/tmp/tendon-system-deps.log
        echo "==> installing Debian packages for the tests: ${_tendon_missing[*]} (log: $_tendon_log)" >&2
        if ! { apt-get update -qq \
               && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_tendon_missing[@]}"; \
             } >"$_tendon_log" 2>&1; then
            tail -20 "$_tendon_log" >&2
            echo "installing ${_tendon_missing[*]} failed (log above, also in $_tendon_log)" >&2
            exit 1
        fi
        unset _tendon_log
    else
        _tendon_skips=()
        for _tendon_pkg in "${_tendon_missing[@]}"; do
            case "$_tendon_pkg" in
                chromium) _tendon_skips+=("the headless-Chromium report test (tests/views) and the browser tests (tests/web)") ;;
                chromium-driver) _tendon_skips+=("the Selenium browser tests of the web pages (tests/web)") ;;
                postgresql) _tendon_skips+=("the PostgreSQL scale-out tests (tests/scale)") ;;
            esac
        done
        _tendon_joined="$(printf '%s, ' "${_tendon_skips[@]}")"
        echo "==> not installed: ${_tendon_missing[*]} (needs root and apt-get); will skip: ${_tendon_joined%, }" >&2
        unset _tendon_skips _tendon_pkg _tendon_joined
    fi
fi
unset _tendon_missing
