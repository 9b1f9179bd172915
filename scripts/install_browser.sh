#!/usr/bin/env bash
# Headless Chromium and its WebDriver from Debian's packages, for the browser test of the
# Dagster UI (lakehouse_assets_tests/test_ui_browser.py). Idempotent; nothing is downloaded at
# test time. Needs root and apt-get; elsewhere install chromium and chromium-driver yourself.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install_browser: chromium and chromedriver are missing; install Debian's chromium and" \
       "chromium-driver packages (needs root and apt-get) to run the browser test." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
