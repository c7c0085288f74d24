"""Placeholder while the page is being built (see the open issue)."""
import streamlit as st

st.title("shape_lab")
st.info("This lab is being built.")
