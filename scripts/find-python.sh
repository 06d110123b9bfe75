#!/usr/bin/env bash
# Print the path of a working Python interpreter of the given minor version
# (e.g. 3.10). pyenv shims on PATH may exist without working, so each
# candidate is run before it is chosen.
set -u
want="$1"
candidates=(
  "python$want"
  "$(pyenv root 2>/dev/null)/versions/$want"*/bin/python"$want"
  /root/.pyenv/versions/"$want"*/bin/python"$want"
  /usr/bin/python"$want"
  /usr/local/bin/python"$want"
  python3
)
for py in "${candidates[@]}"; do
  [ -n "$py" ] || continue
  ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ "$ver" = "$want" ]; then
    command -v "$py"
    exit 0
  fi
done
echo "Python $want not found: install it (e.g. 'pyenv install $want') and retry" >&2
exit 1
