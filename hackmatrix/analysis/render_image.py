"""Drawing a game state as a Pillow image: the 6x6 board and a side panel, for GIFs and trackers.

The image shows what the terminal renderer of `hackmatrix play` shows (hackmatrix.reference.render),
drawn from the same reference-engine State: a JAX EnvState or a scenario mapping is converted
through the canonical scenario first, so both engines draw identically. Every image of every state
has the same size (IMAGE_SIZE), which animated GIFs and video summaries need.
"""

import functools

from PIL import Image, ImageDraw, ImageFont

from hackmatrix.env.constants import (
    CRYPTOG,
    EXIT,
    GRID,
    KIND_DATA,
    KIND_PROGRAM,
    MAX_HP,
    NUM_PROGRAMS,
    NUM_STAGES,
    PICKUP,
    PROGRAM_ACTION_OFFSET,
    PROGRAM_CREDITS,
    PROGRAM_ENERGY,
    PROGRAM_NAMES,
)
from hackmatrix.reference.model import State
from hackmatrix.reference.play import ACTION_LABELS
from hackmatrix.reference.render import ENEMY_LETTER

CELL = 72
MARGIN = 24  # room for the row and column numbers around the board
BOARD = GRID * CELL
PANEL = 300
TITLE_HEIGHT = 22
IMAGE_SIZE = (MARGIN + BOARD + MARGIN + PANEL, TITLE_HEIGHT + MARGIN + BOARD + MARGIN)
LINE = 18
PROGRAM_ROWS = (NUM_PROGRAMS + 1) // 2  # owned programs are listed in two columns

BACKGROUND = (24, 24, 32)
GRID_LINE = (70, 70, 90)
TEXT = (225, 225, 235)
DIM_TEXT = (120, 120, 135)
BLOCK_FILL = (88, 88, 110)
SIPHONED_FILL = (52, 52, 64)
EXIT_COLOUR = (60, 200, 90)
PICKUP_COLOUR = (60, 200, 220)
CREDIT_COLOUR = (235, 200, 60)
ENERGY_COLOUR = (100, 220, 120)
PROGRAM_COLOUR = (110, 150, 255)
TRANSMISSION_COLOUR = (230, 70, 70)
PLAYER_COLOUR = (245, 245, 255)
HP_COLOUR = (230, 60, 70)
# Enemy colours follow the terminal renderer: virus red, daemon magenta, glitch yellow, cryptog cyan.
ENEMY_COLOUR = {0: (225, 60, 60), 1: (200, 80, 220), 2: (230, 200, 50), 3: (60, 200, 220)}
LEGEND = ("Vn virus  Dn daemon  Gn glitch  Cn cryptog (n: HP)",
          "@ you   red ring: enemy spawns in n turns")


@functools.lru_cache(maxsize=4)
def _font(size: int):
    """Pillow's bundled scalable font where FreeType exists, else its fixed bitmap font."""
    try:
        return ImageFont.load_default(size)
    except (ImportError, TypeError):  # Pillow built without FreeType, or older than 10.1
        return ImageFont.load_default()


def to_reference_state(state) -> State:
    """Return a reference State for a reference State, a JAX EnvState or a scenario mapping."""
    from hackmatrix.reference.scenario_read import from_scenario

    if isinstance(state, State):
        return state
    if isinstance(state, dict):
        return from_scenario(state)
    from hackmatrix.env.scenario import scenario_from_state

    return from_scenario(scenario_from_state(state))


def _text(draw, xy, text, fill=TEXT, size=13, anchor="la") -> None:
    draw.text(xy, text, fill=fill, font=_font(size), anchor=anchor)


def _fit(text: str, width: int, size: int) -> str:
    """Cut text to `width` pixels, keeping its end (a long checkpoint path loses its start)."""
    font = _font(size)
    while text and font.getlength(text) > width:
        text = "…" + text[2:]
    return text


def _visible(state: State, enemy) -> bool:
    """A cryptog is hidden unless SHOW is on or it shares the player's row or column (as in play)."""
    return (enemy.type != CRYPTOG or state.show or enemy.row == state.player.row
            or enemy.col == state.player.col)


def _cell_box(r: int, c: int) -> tuple:
    """Pixel box of cell (row, col); row 0 is the bottom row, as on the terminal board."""
    x0 = MARGIN + c * CELL
    y0 = TITLE_HEIGHT + MARGIN + (GRID - 1 - r) * CELL
    return x0, y0, x0 + CELL, y0 + CELL


def _draw_terrain(draw, state: State, r: int, c: int) -> None:
    x0, y0, x1, y1 = box = _cell_box(r, c)
    cell = state.cell((r, c))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    if cell.is_block:
        draw.rectangle(box, fill=SIPHONED_FILL if cell.siphoned else BLOCK_FILL)
        if cell.kind == KIND_DATA:
            _text(draw, (cx, cy), f"#{cell.points}", size=18, anchor="mm")
        elif cell.kind == KIND_PROGRAM:
            _text(draw, (cx, cy), PROGRAM_NAMES[cell.program], PROGRAM_COLOUR, 13, "mm")
        else:
            _text(draw, (cx, cy), "?", size=22, anchor="mm")
        return
    if cell.siphoned:
        draw.rectangle(box, fill=SIPHONED_FILL)
    if cell.content == EXIT:
        draw.rectangle((x0 + 3, y0 + 3, x1 - 3, y1 - 3), outline=EXIT_COLOUR, width=3)
        _text(draw, (cx, y1 - 12), "EXIT", EXIT_COLOUR, 12, "mm")
    elif cell.content == PICKUP:
        draw.rectangle((x0 + 3, y0 + 3, x1 - 3, y1 - 3), outline=PICKUP_COLOUR, width=2)
        _text(draw, (cx, y1 - 12), "DATA", PICKUP_COLOUR, 12, "mm")
    if cell.credits:
        _text(draw, (x0 + 4, y0 + 3), f"c{cell.credits}", CREDIT_COLOUR, 12)
    if cell.energy:
        _text(draw, (x1 - 4, y0 + 3), f"e{cell.energy}", ENERGY_COLOUR, 12, "ra")
    if cell.siphon_center:
        _text(draw, (x0 + 4, y1 - 16), "*", DIM_TEXT, 14)


def _draw_occupants(draw, state: State, r: int, c: int) -> None:
    x0, y0, x1, y1 = _cell_box(r, c)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2 - 2
    transmissions = state.transmissions_at((r, c))
    if transmissions:
        t = transmissions[0]
        draw.ellipse((x1 - 26, y1 - 26, x1 - 4, y1 - 4), outline=TRANSMISSION_COLOUR, width=2)
        _text(draw, (x1 - 15, y1 - 15), str(t.timer), TRANSMISSION_COLOUR, 12, "mm")
    enemies = [e for e in state.enemies_at((r, c)) if _visible(state, e)]
    if state.player.cell == (r, c):
        draw.ellipse((cx - 17, cy - 17, cx + 17, cy + 17), fill=PLAYER_COLOUR)
        _text(draw, (cx, cy), "@", BACKGROUND, 20, "mm")
    elif enemies:
        e = enemies[0]
        colour = ENEMY_COLOUR[e.type]
        inactive = e.stunned or e.disabled
        draw.ellipse((cx - 17, cy - 17, cx + 17, cy + 17),
                     fill=BACKGROUND if inactive else colour, outline=colour, width=3)
        _text(draw, (cx, cy), f"{ENEMY_LETTER[e.type]}{e.hp}", colour if inactive else BACKGROUND,
              16, "mm")
        if len(enemies) > 1:
            _text(draw, (x0 + 4, y1 - 16), f"+{len(enemies) - 1}", colour, 12)


def _draw_board(draw, state: State) -> None:
    for r in range(GRID):
        for c in range(GRID):
            _draw_terrain(draw, state, r, c)
            _draw_occupants(draw, state, r, c)
    top = TITLE_HEIGHT + MARGIN
    for i in range(GRID + 1):
        draw.line((MARGIN + i * CELL, top, MARGIN + i * CELL, top + BOARD), fill=GRID_LINE)
        draw.line((MARGIN, top + i * CELL, MARGIN + BOARD, top + i * CELL), fill=GRID_LINE)
    for i in range(GRID):
        _text(draw, (MARGIN + i * CELL + CELL // 2, top + BOARD + 12), str(i), DIM_TEXT, 12, "mm")
        _text(draw, (MARGIN // 2, top + (GRID - 1 - i) * CELL + CELL // 2), str(i), DIM_TEXT,
              12, "mm")


def _outcome(state: State) -> tuple:
    if state.won:
        return "VICTORY", EXIT_COLOUR
    if state.done:
        return "GAME OVER", HP_COLOUR
    return "", TEXT


def _draw_panel(draw, state: State, mask, last_action, last_reward) -> None:
    p = state.player
    x = MARGIN + BOARD + MARGIN
    y = TITLE_HEIGHT + MARGIN - 4
    _text(draw, (x, y), "HP", HP_COLOUR, 15)
    for i in range(MAX_HP):  # one filled square per hit point left
        box = (x + 32 + i * 22, y + 2, x + 48 + i * 22, y + 18)
        draw.rectangle(box, fill=HP_COLOUR if i < p.hp else None, outline=HP_COLOUR, width=2)
    _text(draw, (x + 32 + MAX_HP * 22 + 4, y), f"{p.hp}/{MAX_HP}", HP_COLOUR, 15)
    y += LINE + 8
    rows = [
        (f"credits {p.credits}", CREDIT_COLOUR, f"energy {p.energy}", ENERGY_COLOUR),
        (f"stage {state.stage}/{NUM_STAGES}", TEXT, f"score {p.score}", TEXT),
        (f"data siphons {p.data_siphons}", PICKUP_COLOUR, f"attack {p.attack}", TEXT),
        (f"turn {state.turn}", DIM_TEXT, f"next spawn {state.sched_next}", DIM_TEXT),
    ]
    for left, left_colour, right, right_colour in rows:
        _text(draw, (x, y), left, left_colour, 14)
        _text(draw, (x + 150, y), right, right_colour, 14)
        y += LINE + 2
    flags = [name for name, on in (("SHOW", state.show), ("CALM", state.calm),
                                   ("STEP", state.step_pending)) if on]
    _text(draw, (x, y), "flags " + (" ".join(flags) or "-"), DIM_TEXT, 13)
    y += LINE + 6
    if last_action is None:
        _text(draw, (x, y), "last action -", DIM_TEXT, 14)
    else:
        reward = "" if last_reward is None else f"  reward {last_reward:+.2f}"
        _text(draw, (x, y), f"last action {ACTION_LABELS[last_action]}{reward}", TEXT, 14)
    y += LINE + 2
    outcome, colour = _outcome(state)
    _text(draw, (x, y), outcome, colour, 16)
    y += LINE + 8
    _text(draw, (x, y), "programs (credits/energy)", DIM_TEXT, 13)
    y += LINE
    owned = [i for i in range(NUM_PROGRAMS) if p.owned[i]]
    if not owned:
        _text(draw, (x, y), "none yet", DIM_TEXT, 13)
    for n, i in enumerate(owned):
        usable = mask is None or bool(mask[PROGRAM_ACTION_OFFSET + i])
        px, py = x + (n // PROGRAM_ROWS) * 150, y + (n % PROGRAM_ROWS) * (LINE - 2)
        _text(draw, (px, py), f"{PROGRAM_NAMES[i]} {PROGRAM_CREDITS[i]}/{PROGRAM_ENERGY[i]}",
              PROGRAM_COLOUR if usable else DIM_TEXT, 13)


def render_state(state, mask=None, last_action=None, last_reward=None,
                 title: str = "") -> Image.Image:
    """Draw a game state (reference State, EnvState or scenario) as an RGB image of IMAGE_SIZE.

    `mask` (28 valid-action flags) greys out the owned programs that cannot run now; the last
    action and its reward are shown in the panel; `title` is written above the board.
    """
    state = to_reference_state(state)
    image = Image.new("RGB", IMAGE_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    _text(draw, (MARGIN, 6), _fit(title, IMAGE_SIZE[0] - 2 * MARGIN, 13), TEXT, 13)
    for i, line in enumerate(LEGEND):
        _text(draw, (MARGIN + BOARD + MARGIN, IMAGE_SIZE[1] - 34 + i * 14), line, DIM_TEXT, 11)
    _draw_board(draw, state)
    _draw_panel(draw, state, mask, last_action, last_reward)
    return image


def render_frame(frame: dict, previous: dict | None = None, title: str = "") -> Image.Image:
    """Draw one frame of a watched or replayed episode; `previous` supplies the last action."""
    last_action = previous["action"] if previous is not None else None
    last_reward = previous["reward"] if previous is not None else None
    return render_state(frame["scenario"], frame.get("mask"), last_action, last_reward, title)
