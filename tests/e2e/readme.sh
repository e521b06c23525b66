# readme.sh - the README's shell lines, for the tests that run them as an
# admin would.  Sourced by sh.
#
# A block is marked in README.md by an HTML comment "<!-- NAME: ... -->"
# on the line before its fence; readme_block NAME prints the block's lines,
# unindented, so that what the README tells admins to type is what runs.

readme_block() {
    awk -v mark="<!-- $1:" '
        index($0, mark) { found = 1; next }
        found && /^[ \t]*```/ { if (inside) exit; inside = 1; next }
        inside { sub(/^[ \t]+/, ""); print }
    ' README.md
}

# man_has_lines PAGE LINES: whether every one of LINES appears in the
# rendered PAGE (blanks squeezed), so the man page says what the README says.
man_has_lines() {
    text=$(LC_ALL=C MANWIDTH=250 man -l "$1" 2>/dev/null | tr -s ' \t' '  ')
    printf '%s\n' "$2" | while IFS= read -r line; do
        want=$(printf '%s' "$line" | tr -s ' \t' '  ')
        printf '%s\n' "$text" | grep -q -F -- "$want" || { echo "missing: $line"; exit 1; }
    done
}
