#!/bin/sh
# A new province from nothing to its first class (issue 13.1), on its own data, with no demo.
# Run from a folder holding the two files of step 2 and 3; QUANTRIET is the binary
# (default: `quantriet` on the PATH). crates/cli/tests/first_start.rs runs this very script.
set -eu
Q=${QUANTRIET:-quantriet}
# Where the data lives: a SQLite file here, or postgres://user@host/db.
export QUANTRIET_DATABASE_URL="${QUANTRIET_DATABASE_URL:-./data/quantriet.db}"
# The first administrator's password comes from the environment, never the command line.
: "${QUANTRIET_ADMIN_PASSWORD:?set QUANTRIET_ADMIN_PASSWORD to the first administrator's password}"
export QUANTRIET_ADMIN_PASSWORD

# 1. The root organization and its first administrator (refused if the database has one).
"$Q" init --org-code T01 --org-name "Đảng bộ tỉnh Gia Lai" --level-name "Tỉnh ủy" \
  --username quantri --display-name "Quản trị Tỉnh ủy"

# 2. The organization tree: columns Mã, Tên, Mã cấp trên, Cấp, Loại (the file may list the root).
"$Q" import orgs to-chuc.csv --user quantri --dry-run
"$Q" import orgs to-chuc.csv --user quantri

# 3. The members of a commune: a dry run shows the column mapping and every error; then write.
"$Q" import members dang-vien.csv --org X001 --user quantri --dry-run
"$Q" import members dang-vien.csv --org X001 --user quantri

# 4. Serve (behind nginx: see docs/deploy/). The administrator logs in, enrolls the second
#    factor, enters the resolution in the catalog, and plans the campaign and its first class.
echo "ready: start the server with \`$Q serve\`"
