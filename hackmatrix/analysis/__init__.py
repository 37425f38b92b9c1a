"""Using a trained agent: `hackmatrix eval`, `hackmatrix watch` and `hackmatrix report`."""
