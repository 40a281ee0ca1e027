"""Tests of sharpeyes.analytics."""
