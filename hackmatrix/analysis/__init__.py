"""Using a trained agent: `hackmatrix eval`, `watch` (and its GIFs), `report` and `export`."""
