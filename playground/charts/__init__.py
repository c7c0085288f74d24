"""plotly figure builders only: ``*_figure(...) -> go.Figure``. One module per lab; ``common``
holds what several labs share. No streamlit here."""
