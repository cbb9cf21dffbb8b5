"""Reading documents as LaTeX and pandoc read them: the citations they make, the bibliography they name,
and the project (root document, book configuration) they belong to. Used by the language server and export."""
