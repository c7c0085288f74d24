"""Placeholder while the page is being built (see the open issue)."""
import streamlit as st

st.title("inspector")
st.info("This lab is being built.")
