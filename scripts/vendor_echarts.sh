#!/usr/bin/env bash
# Re-vendor Apache ECharts for the console from the npm registry:
#   scripts/vendor_echarts.sh 6.1.0
set -euo pipefail
version="${1:?usage: $0 VERSION}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/app/console/static/vendor/echarts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack "echarts@$version" --silent >/dev/null
mkdir echarts && tar xzf "echarts-$version.tgz" -C echarts
zrender="$(node -p "require('./echarts/package/package.json').dependencies.zrender")"
npm pack "zrender@$zrender" --silent >/dev/null
mkdir zrender && tar xzf zrender-*.tgz -C zrender
cp echarts/package/dist/echarts.min.js "$dest/"
cp echarts/package/LICENSE echarts/package/NOTICE "$dest/"
cp echarts/package/licenses/LICENSE-d3 "$dest/"
cp zrender/package/LICENSE "$dest/LICENSE-zrender"
sed -i "s/ECharts [0-9.]* (vendored)/ECharts $version (vendored)/; s/echarts@[0-9.]*/echarts@$version/; s/zrender@[0-9.]*/zrender@$zrender/" "$dest/README.md"
echo "vendored echarts $version (zrender $zrender) into $dest"
