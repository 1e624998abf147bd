"""Write paths and computations behind the views and the API (views hold no logic)."""
