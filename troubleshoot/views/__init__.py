"""The app's views, a module per kind of page: `browse` (finding help: home, categories, topics, articles, the 404
page), `runs` (a seller walking a checker's published version) and `preview` (an editor walking a draft).
"""
