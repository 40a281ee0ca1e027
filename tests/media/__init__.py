"""Tests of sharpeyes.media."""
