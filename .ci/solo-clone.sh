#!/usr/bin/env bash
# Proves that the repository tests itself alone: clones it into an empty temporary directory (nothing beside it, in
# particular no ../shared), installs from its own lock file (`npm ci`) and runs the suite there.
#
# Usage: .ci/solo-clone.sh [test path ...]
#   no arguments   runs `npm test` (typecheck + the whole jest suite), as .ci/run does
#   test paths     runs only those jest files (relative to the repository root), e.g. to check a few suites quickly
# Environment:
#   SOLO_SOURCE=head       (default) a `git clone` of the committed HEAD: exactly what a newcomer gets
#   SOLO_SOURCE=worktree   the working tree instead: tracked and untracked files that .gitignore does not exclude
#   SOLO_KEEP=1            keep the temporary directory (its path is printed) instead of removing it
#   TMPDIR                 where the temporary directory is made (default /tmp)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source_kind="${SOLO_SOURCE:-head}"

parent="$(mktemp -d "${TMPDIR:-/tmp}/capstan-solo.XXXXXX")"
clone="$parent/capstan"
cleanup() {
  if [ "${SOLO_KEEP:-}" = "1" ]; then
    echo "solo-clone: kept $clone"
  else
    rm -rf "$parent"
  fi
}
trap cleanup EXIT

case "$source_kind" in
  head)
    git clone --quiet --no-hardlinks "$repo" "$clone"
    ;;
  worktree)
    mkdir -p "$clone"
    # -z: NUL-separated, so any file name survives; deleted-but-tracked files are skipped by the existence test.
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
      while IFS= read -r -d '' f; do
        if [ -e "$repo/$f" ]; then
          mkdir -p "$clone/$(dirname "$f")"
          cp -p "$repo/$f" "$clone/$f"
        fi
      done
    ;;
  *)
    echo "solo-clone: SOLO_SOURCE must be head or worktree, got '$source_kind'" >&2
    exit 2
    ;;
esac

# The point of the exercise: nothing may be found beside the clone.
shopt -s dotglob nullglob
for entry in "$parent"/*; do
  if [ "$entry" != "$clone" ]; then
    echo "solo-clone: $parent must hold only the clone, found $entry" >&2
    exit 1
  fi
done
shopt -u dotglob nullglob

cd "$clone"
echo "solo-clone: $source_kind copy in $clone ($(git -C "$repo" rev-parse --short HEAD)), nothing beside it"

# A quick early warning for what the suite cannot see (README and docs commands): no path may leave the repository
# through ../shared.
# (The bracket keeps this line from matching itself.)
if grep -rnI --exclude-dir=node_modules --exclude-dir=.git -e '\.\./shar[e]d/' . ; then
  echo "solo-clone: the lines above point outside the repository, into a shared directory beside it" >&2
  exit 1
fi

npm ci --no-audit --no-fund --prefer-offline
if [ "$#" -eq 0 ]; then
  npm test
else
  npm run --silent test:jest -- "$@"
fi
echo "solo-clone: passed in a copy with nothing beside it"
