"""Terminal drawing of a reference game for `hackmatrix play`: the board and the side panel (ANSI)."""

import re

from hackmatrix.env.constants import (
    CRYPTOG,
    DAEMON,
    ENEMY_NAMES,
    EXIT,
    GLITCH,
    GRID,
    KIND_DATA,
    KIND_PROGRAM,
    MAX_HP,
    NUM_ENEMY_TYPES,
    NUM_PROGRAMS,
    PICKUP,
    PROGRAM_ACTION_OFFSET,
    PROGRAM_CREDITS,
    PROGRAM_ENERGY,
    PROGRAM_NAMES,
    VIRUS,
)
from hackmatrix.reference.model import State

RESET = "\x1b[0m"
BOLD, DIM = "\x1b[1m", "\x1b[2m"
RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, WHITE = (f"\x1b[{c}m" for c in range(31, 38))
GREY_BG = "\x1b[100m"
CLEAR = "\x1b[2J\x1b[H"
ENEMY_STYLE = {VIRUS: RED, DAEMON: MAGENTA, GLITCH: YELLOW, CRYPTOG: CYAN}
ENEMY_LETTER = tuple(name[0].upper() for name in ENEMY_NAMES)
CELL_WIDTH = 6
# One key per program (shown in the side panel and the help).
PROGRAM_KEYS = ("p", "l", "c", "j", "y", ".", "b", "r", "v", "u", "t", "+", "e", "h", "!", "m",
                "o", "g", "n", "$", "-", "k", "i")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (what a screen shows as plain text)."""
    return _ANSI.sub("", text)


def _paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{RESET}" if colour and style else text


def _occupant(state: State, pos) -> tuple:
    """(text, style) of what stands on a cell: the player, the first visible enemy, a transmission."""
    parts = []
    if state.player.cell == pos:
        parts.append(("@", BOLD + WHITE))
    for e in state.enemies_at(pos):
        visible = (e.type != CRYPTOG or state.show or e.row == state.player.row
                   or e.col == state.player.col)
        if visible:
            style = ENEMY_STYLE[e.type] + (DIM if e.stunned or e.disabled else BOLD)
            parts.append((f"{ENEMY_LETTER[e.type]}{e.hp}", style))
            break
    for t in state.transmissions_at(pos):
        parts.append((f"~{t.timer}", RED + DIM))
        break
    if not parts:
        return "", ""
    text = "".join(p[0] for p in parts)[:CELL_WIDTH]
    return text, parts[0][1]


def _terrain(state: State, pos) -> tuple:
    """(text, style) of the ground: block contents, exit, pickup, resource."""
    cell = state.cell(pos)
    if cell.is_block:
        dim = DIM if cell.siphoned else ""
        if cell.kind == KIND_DATA:
            return f"#{cell.points}", WHITE + dim
        if cell.kind == KIND_PROGRAM:
            return PROGRAM_NAMES[cell.program][:CELL_WIDTH], BLUE + dim
        return "??", WHITE
    if cell.content == EXIT:
        return "EXIT", GREEN + BOLD
    if cell.content == PICKUP:
        return "DATA", CYAN + BOLD
    if cell.credits:
        return f"c{cell.credits}", YELLOW
    if cell.energy:
        return f"e{cell.energy}", GREEN
    return "", ""


def board_lines(state: State, colour: bool = True) -> list:
    """The 6x6 board, row 5 on top; each cell shows an occupant line and a terrain line."""
    sep = "   +" + "+".join("-" * CELL_WIDTH for _ in range(GRID)) + "+"
    lines = ["    " + "".join(f"{c:^{CELL_WIDTH + 1}}" for c in range(GRID)), sep]
    for r in reversed(range(GRID)):
        top, bottom = [], []
        for c in range(GRID):
            cell = state.cell((r, c))
            bg = GREY_BG if cell.siphoned and colour else ""
            marker = "*" if cell.siphon_center else "." if cell.siphoned else " "
            occ, occ_style = _occupant(state, (r, c))
            ter, ter_style = _terrain(state, (r, c))
            top.append(bg + _paint(f"{occ:<{CELL_WIDTH - 1}}", occ_style, colour) + bg + marker
                       + (RESET if bg else ""))
            bottom.append(bg + _paint(f"{ter:>{CELL_WIDTH}}", ter_style, colour)
                          + (RESET if bg else ""))
        lines.append(f" {r} |" + "|".join(top) + "|")
        lines.append("   |" + "|".join(bottom) + "|")
        lines.append(sep)
    return lines


def panel_lines(state: State, mask: list, colour: bool = True) -> list:
    """The side panel: player stats, stage and turn, then owned programs (greyed if unusable)."""
    p = state.player
    hearts = "♥" * p.hp + "·" * (MAX_HP - p.hp)
    flags = [name for name, on in (("SHOW", state.show), ("CALM", state.calm),
                                   ("STEP", state.step_pending)) if on]
    lines = [
        _paint(f"HP {hearts} {p.hp}/{MAX_HP}", RED + BOLD, colour),
        f"credits {p.credits:<4} energy {p.energy}",
        f"data siphons {p.data_siphons}   attack {p.attack}",
        f"score {p.score:<6} stage {state.stage}/8",
        f"turn {state.turn:<7} next spawn {state.sched_next}",
        "flags " + (" ".join(flags) if flags else "-"),
        "",
        "programs (key name credits/energy):",
    ]
    owned = [i for i in range(NUM_PROGRAMS) if p.owned[i]]
    if not owned:
        lines.append("  (none yet: siphon program blocks)")
    for i in owned:
        text = (f"  {PROGRAM_KEYS[i]} {PROGRAM_NAMES[i]:<7}"
                f"{PROGRAM_CREDITS[i]}/{PROGRAM_ENERGY[i]}")
        usable = mask[PROGRAM_ACTION_OFFSET + i]
        lines.append(_paint(text, "" if usable else DIM, colour) + ("" if usable else "  -"))
    return lines


def legend_lines() -> list:
    """What the board symbols mean."""
    enemies = "  ".join(f"{ENEMY_LETTER[t]}n {ENEMY_NAMES[t]}" for t in range(NUM_ENEMY_TYPES))
    return [
        f"@ you  {enemies} (n = HP)  ~n transmission (n turns)",
        "#n data block  NAME program block  ?? unknown block  EXIT  DATA pickup",
        "cn/en credits/energy  * siphon centre  . siphoned (grey background)",
    ]


def screen(state: State, mask: list, message: list, colour: bool = True) -> str:
    """The full screen: board with the panel on its right, legend, then the message lines."""
    board = board_lines(state, colour)
    panel = panel_lines(state, mask, colour)
    width = max(len(strip_ansi(line)) for line in board)
    rows = []
    for i in range(max(len(board), len(panel))):
        left = board[i] if i < len(board) else ""
        pad = width + 2 - len(strip_ansi(left))
        rows.append(left + " " * max(pad, 2) + (panel[i] if i < len(panel) else ""))
    return "\n".join([*rows, "", *legend_lines(), "", *message]) + "\n"
