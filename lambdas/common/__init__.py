"""Small pieces shared by every Lambda domain package."""
