(require 'eglot)
(defvar papercite-modes
  '(latex-mode plain-tex-mode LaTeX-mode plain-TeX-mode markdown-mode gfm-mode bibtex-mode)
  "LaTeX and Markdown, and BibTeX so that entries papercite adds to an open .bib go into its buffer.")
;; One papercite server per project, for all of these modes.
(add-to-list 'eglot-server-programs `(,papercite-modes . ("papercite" "lsp")))
(dolist (mode papercite-modes)
  (add-hook (intern (format "%s-hook" mode)) #'eglot-ensure))
;; M-TAB is taken in these modes (ispell's word completion, AUCTeX's): complete on C-c c.
(define-key eglot-mode-map (kbd "C-c c") #'completion-at-point)
