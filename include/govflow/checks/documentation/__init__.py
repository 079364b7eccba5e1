"""The documentation family's declaration (its runner, rendering the documents, is ``govflow.docs``)."""
