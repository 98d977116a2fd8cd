#!/usr/bin/env bash
# What the docs need beyond the venv: npm (to fetch MathJax once, tools/build_docs.py) and
# Chromium (the browser test, tools/docs_test.py). Installed with apt-get where we are root on
# Debian/Ubuntu; elsewhere this says what is missing and the test reports itself NOT RUN.
# Usage: tools/ensure_docs_tools.sh [npm|chromium ...]   (default: both)
set -uo pipefail
wanted=("${@:-npm chromium}"); wanted=(${wanted[@]})
have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {   # apt_install PACKAGE: quietly, refreshing the package lists if needed
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$1" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$1" >/dev/null; }
}
can_apt=false
if have apt-get && [ "$(id -u)" = 0 ]; then can_apt=true; fi
for tool in "${wanted[@]}"; do
  case $tool in
    npm)
      have npm && continue
      if $can_apt; then echo "Installing npm (Debian) for MathJax..."; apt_install npm || echo "apt-get could not install npm" >&2
      else echo "npm is not installed: the docs build needs it once to fetch MathJax (or set ACCEL_SGD_MATHJAX)" >&2; fi ;;
    chromium)
      { [ -n "${CHROMIUM:-}" ] || have chromium || have chromium-browser || have google-chrome; } && continue
      if $can_apt; then echo "Installing Chromium (Debian) for the docs browser test (about a minute, once)..."
        apt_install chromium || echo "apt-get could not install chromium: the docs browser test will report NOT RUN" >&2
      else echo "Chromium is not installed and apt-get is not available as root: the docs browser test will report NOT RUN" >&2; fi ;;
  esac
done
exit 0
