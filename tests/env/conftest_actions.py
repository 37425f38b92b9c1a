"""Hand-built states and plain readers for the player-action tests (no scenario loader)."""

import jax.numpy as jnp

from hackmatrix.env import entities
from hackmatrix.env.constants import (
    BLOCK,
    ENEMY_MAX_HP,
    KIND_DATA,
    KIND_PROGRAM,
    KIND_QUESTION,
    PROGRAM_SPAWN,
)
from hackmatrix.env.state import blank_state

_KINDS = {"data": KIND_DATA, "program": KIND_PROGRAM, "question": KIND_QUESTION}


def make_state(player=(0, 0), enemies=(), transmissions=(), blocks=(), resources=(),
               siphoned=(), owned=(), **fields):
    """Build a state from blank_state().

    enemies: dicts with type, row, col and optional hp (default max), disabled, stunned,
    from_scheduled, from_siphon. transmissions: dicts with row, col and optional timer (1),
    enemy_type (0), flags. blocks: dicts with row, col, kind ("data"/"program"/"question"),
    points or program, optional spawn (default points / PROGRAM_SPAWN) and siphoned.
    resources: (row, col, credits, energy). siphoned: non-block (row, col) cells.
    fields: player fields (hp, credits, energy, data_siphons, attack, score) or state fields.
    """
    s = blank_state()
    player_fields = {k: jnp.int32(v) for k, v in fields.items() if hasattr(s.player, k)}
    owned_mask = jnp.zeros(23, bool).at[jnp.array(list(owned), jnp.int32)].set(True)
    p = s.player.replace(row=jnp.int32(player[0]), col=jnp.int32(player[1]), owned=owned_mask,
                         **player_fields)
    # Same dtypes as blank_state (not weak types), so jitted callers do not retrace.
    state_fields = {k: jnp.asarray(v, getattr(s, k).dtype) for k, v in fields.items()
                    if not hasattr(s.player, k)}
    s = s.replace(player=p, **state_fields)
    en = s.enemies
    for e in enemies:
        values = {"hp": ENEMY_MAX_HP[e["type"]], **e}
        en = entities.append(en, **values)
    tr = s.transmissions
    for t in transmissions:
        tr = entities.append(tr, **{"timer": 1, **t})
    g = s.grid
    for b in blocks:
        r, c = b["row"], b["col"]
        program = b.get("program", -1)
        points = b.get("points", 0)
        spawn = b.get("spawn", points if program < 0 else PROGRAM_SPAWN[program])
        g = g.replace(
            content=g.content.at[r, c].set(BLOCK),
            block_kind=g.block_kind.at[r, c].set(_KINDS[b["kind"]]),
            block_points=g.block_points.at[r, c].set(points),
            block_program=g.block_program.at[r, c].set(program),
            block_spawn=g.block_spawn.at[r, c].set(spawn),
            siphoned=g.siphoned.at[r, c].set(b.get("siphoned", False)),
        )
    for r, c, cr, en_amount in resources:
        g = g.replace(credits=g.credits.at[r, c].set(cr), energy=g.energy.at[r, c].set(en_amount))
    for r, c in siphoned:
        g = g.replace(siphoned=g.siphoned.at[r, c].set(True))
    return s.replace(enemies=en, transmissions=tr, grid=g)


def enemy_list(state):
    """Return the live enemies as (type, row, col, hp, stunned) tuples of Python values."""
    e = state.enemies
    return [
        (int(e.type[i]), int(e.row[i]), int(e.col[i]), int(e.hp[i]), bool(e.stunned[i]))
        for i in range(int(e.count))
    ]


def transmission_list(state):
    """Return the live transmissions as (row, col, timer, enemy_type) tuples of Python values."""
    t = state.transmissions
    return [
        (int(t.row[i]), int(t.col[i]), int(t.timer[i]), int(t.enemy_type[i]))
        for i in range(int(t.count))
    ]


def player_tuple(state):
    """Return (row, col, hp, credits, energy, data_siphons, score, attack) as Python ints."""
    p = state.player
    return tuple(int(x) for x in (p.row, p.col, p.hp, p.credits, p.energy, p.data_siphons,
                                  p.score, p.attack))
