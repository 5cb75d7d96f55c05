"""IVR flows as data (prompts, notice and follow-up calls). Built by a later issue."""
