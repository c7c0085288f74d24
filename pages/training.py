"""Placeholder while the page is being built (see the open issue)."""
import streamlit as st

st.title("training")
st.info("This lab is being built.")
