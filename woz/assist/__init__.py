"""Where real models take part: upstream models, assist drafts and control-arm answers,
and the provenance that says what a model contributed."""
