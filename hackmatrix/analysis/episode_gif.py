"""An episode as an animated GIF: one image per frame of a watched or replayed episode.

Frames are those of `hackmatrix watch` and of replay files (hackmatrix.analysis.replay): frame t
holds the state before action t, so image t shows that state with action t-1 and its reward as
the "last action". The GIF loops forever; the final state is held longer so that the outcome can
be read before the animation restarts.
"""

from pathlib import Path

from hackmatrix.analysis.render_image import render_frame

FRAME_MS = 400
LAST_FRAME_MS = 2000


def episode_images(frames: list, title: str = "") -> list:
    """Return one RGB image per frame, each titled with its step and the running return."""
    images, previous, episode_return = [], None, 0.0
    for frame in frames:
        if previous is not None and previous["reward"] is not None:
            episode_return += previous["reward"]
        caption = f"{title}   step {frame['t']}   return {episode_return:+.2f}".strip()
        images.append(render_frame(frame, previous, caption))
        previous = frame
    return images


def write_gif(path, frames: list, title: str = "", frame_ms: int = FRAME_MS) -> Path:
    """Write the frames of one episode as a looping animated GIF; return its path."""
    if not frames:
        raise ValueError("an episode GIF needs at least one frame")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = episode_images(frames, title)
    durations = [frame_ms] * (len(images) - 1) + [max(frame_ms, LAST_FRAME_MS)]
    # One adaptive palette per frame keeps the few board colours exact; loop=0 repeats forever.
    first, *rest = (image.quantize(colors=255) for image in images)
    first.save(path, format="GIF", save_all=True, append_images=rest, duration=durations,
               loop=0, optimize=False)
    return path
