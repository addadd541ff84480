"""The pages woz serves to browsers: the operator console, the researcher's watch view,
the participant's chat page and their own consent page."""
