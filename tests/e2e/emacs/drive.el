;;; drive.el --- Emacs and eglot driving papercite's language server  -*- lexical-binding: t -*-

;; Drives `papercite lsp' from Emacs as a user would: it opens files with the README's config,
;; completes, reads hover, waits for Flymake's diagnostics, picks code actions from eglot's menu.
;; Batch Emacs has no command loop and runs no idle timers, so between steps it does what they do
;; between a user's keystrokes: `post-command-hook' (where eglot-ensure connects), eglot's pending
;; didChange, a Flymake check.  The steps come as JSON in the environment; each step's result goes
;; to a JSON file, with what Emacs asked the user (answered yes) and the error that stopped it.

(require 'cl-lib)
(require 'subr-x)

(defvar papercite-timeout 20 "Seconds a step waits for the server.")
(defvar papercite-questions nil "What Emacs asked with `y-or-n-p', newest first.")

(defun papercite-wait (predicate)
  "Wait until PREDICATE holds, with process output and timers running; its last value."
  (let ((deadline (+ (float-time) papercite-timeout)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun papercite-between-commands ()
  "What the command loop and idle timers do after a keystroke."
  (run-hooks 'post-command-hook)
  (dolist (buffer (buffer-list))  ; an edit the server made may be in another buffer
    (with-current-buffer buffer
      (when (bound-and-true-p eglot--managed-mode)
        (eglot--signal-textDocument/didChange))))
  (when (bound-and-true-p flymake-mode)
    (flymake-start)))

(defvar-local papercite-changes-sent-at 0.0 "When eglot last sent the buffer's changes.")
(defvar-local papercite-diagnostics-at 0.0 "When the server last published the buffer's diagnostics.")

(defun papercite-note-changes-sent (&rest _)
  (when eglot--recent-changes
    (setq papercite-changes-sent-at (float-time))))

(defun papercite-note-diagnostics (_server method &rest params)
  (when (eq method 'textDocument/publishDiagnostics)
    (let ((buffer (find-buffer-visiting (eglot--uri-to-path (plist-get params :uri)))))
      (when buffer
        (with-current-buffer buffer
          (setq papercite-diagnostics-at (float-time)))))))

(defun papercite-goto (step)
  (goto-char (point-min))
  (forward-line (alist-get 'line step))
  (forward-char (alist-get 'character step)))

(defun papercite-plain (string)
  (and string (substring-no-properties string)))

(defun papercite-visible (string)
  "STRING as displayed: without what Markdown rendering made invisible (its markup)."
  (let ((shown "") (start 0))
    (while (< start (length string))
      (let ((end (or (next-single-property-change start 'invisible string) (length string))))
        (unless (get-text-property start 'invisible string)
          (setq shown (concat shown (substring-no-properties string start end))))
        (setq start end)))
    shown))

(defun papercite-line ()
  (papercite-plain (thing-at-point 'line)))

(defun papercite-open (step)
  "Visit a file as `C-x C-f' does; eglot-ensure (from the config's mode hooks) connects."
  (find-file (alist-get 'path step))
  (papercite-between-commands)
  (cl-assert (papercite-wait (lambda () (and (bound-and-true-p eglot--managed-mode)
                                             (eglot-current-server))))
             nil "eglot does not manage %s" (buffer-file-name))
  `((major_mode . ,(symbol-name major-mode))
    (language_id . ,(eglot--language-id (eglot-current-server)))
    ;; What the config's key runs, and whether that reaches eglot's completion.
    (completion_key . ,(format "%s" (key-binding (kbd "C-c c"))))
    (eglot_completes . ,(if (memq #'eglot-completion-at-point completion-at-point-functions) t :false))))

(defun papercite-complete (step)
  "The candidates `completion-at-point' offers at the cursor, in eglot's order.
With `choose', that candidate is inserted and eglot's exit function run, as
picking it from the *Completions* buffer does."
  (papercite-goto step)
  (pcase-let* ((`(,start ,end ,table . ,properties) (eglot-completion-at-point))
               (typed (buffer-substring-no-properties start end))
               (metadata (cdr (funcall table "" nil 'metadata)))
               (sort (alist-get 'display-sort-function metadata))
               (candidates (funcall sort (all-completions typed table)))
               (choose (alist-get 'choose step)))
    (when choose
      (let ((chosen (cl-find choose candidates :test #'string=)))
        (cl-assert chosen nil "%s is not offered" choose)
        (delete-region start end)
        (insert chosen)
        (funcall (plist-get properties :exit-function) chosen 'finished)
        (papercite-between-commands)))
    `((labels . ,(vconcat (mapcar #'papercite-plain (seq-take candidates 5))))
      (line . ,(papercite-line)))))

(defun papercite-echo-area (doc)
  "What eldoc's echo area shows of DOC with the README's one-line setting, after the cursor moved."
  (let ((eldoc-echo-area-use-multiline-p nil) (last-command 'forward-char) (this-command nil) shown)
    (cl-letf (((symbol-function 'eldoc--message) (lambda (message) (setq shown message))))
      (eldoc-display-in-echo-area (list (list doc)) nil))
    shown))

(defun papercite-hover (step)
  "What eldoc gets from eglot's hover at the cursor, as displayed, and the echo area's line."
  (papercite-goto step)
  (let (shown)
    (eglot-hover-eldoc-function (lambda (info &rest _) (setq shown (or info ""))))
    (papercite-wait (lambda () shown))
    `((hover . ,(papercite-visible shown))
      (echo_area . ,(papercite-visible (papercite-echo-area shown))))))

(defun papercite-flymake-overlays ()
  "The diagnostics' overlays, where the user sees them (they move with edits; the
positions a diagnostic was reported at do not), in buffer order."
  (sort (cl-remove-if-not (lambda (overlay) (overlay-get overlay 'flymake-diagnostic))
                          (overlays-in (point-min) (point-max)))
        (lambda (a b) (< (overlay-start a) (overlay-start b)))))

(defun papercite-diagnostic (overlay)
  (save-excursion
    (goto-char (overlay-start overlay))
    `((line . ,(1- (line-number-at-pos)))
      (col . ,(- (point) (line-beginning-position)))
      (text . ,(buffer-substring-no-properties (point) (overlay-end overlay)))
      (message . ,(flymake-diagnostic-text (overlay-get overlay 'flymake-diagnostic))))))

(defun papercite-diagnostics (step)
  "Flymake's diagnostics in the current buffer, once there are `count' of them for its
latest text (until the server answers an edit, Flymake shows the diagnostics of the text before)."
  (let ((count (alist-get 'count step)))
    (papercite-wait (lambda ()
                      (papercite-between-commands)
                      (and (> papercite-diagnostics-at papercite-changes-sent-at)
                           (= (length (papercite-flymake-overlays)) count))))
    `((diagnostics . ,(vconcat (mapcar #'papercite-diagnostic (papercite-flymake-overlays)))))))

(defun papercite-code-action (step)
  "M-x eglot-code-actions at the cursor: the menu's titles and default; the first title
starting with `choose' is picked."
  (papercite-goto step)
  (let ((before (buffer-modified-tick)) titles default chosen)
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt collection &optional _pred _match _initial _hist def &rest _)
                 (setq titles (mapcar (lambda (item) (papercite-plain (car item))) collection)
                       default (papercite-plain def)
                       chosen (cl-find-if (lambda (title)
                                            (string-prefix-p (alist-get 'choose step) title))
                                          titles))
                 (cl-assert chosen nil "no action starting with %s in %S" (alist-get 'choose step) titles)
                 chosen)))
      ;; Run from the keyboard (M-x … RET), eglot asks in the minibuffer rather than a mouse menu.
      (let ((last-nonmenu-event ?\r))
        (call-interactively #'eglot-code-actions)))
    (papercite-between-commands)
    (when (alist-get 'changes_buffer step)
      (papercite-wait (lambda () (/= (buffer-modified-tick) before))))
    `((titles . ,(vconcat titles)) (default . ,default) (chosen . ,chosen)
      (line . ,(papercite-line)))))

(defun papercite-wait-text (step)
  "A file's text (its buffer's if visited), once it contains `contains'."
  (let* ((path (alist-get 'path step))
         (text (lambda ()
                 (let ((buffer (find-buffer-visiting path)))
                   (cond (buffer (with-current-buffer buffer
                                   (buffer-substring-no-properties (point-min) (point-max))))
                         ((file-exists-p path) (with-temp-buffer
                                                 (insert-file-contents path)
                                                 (buffer-string)))
                         (t ""))))))
    (papercite-wait (lambda ()
                      (papercite-between-commands)
                      (string-search (alist-get 'contains step) (funcall text))))
    `((text . ,(funcall text)))))

(defun papercite-symbols (step)
  "M-x xref-find-apropos through eglot: the first matches as listed, each by the line it
points at, with its file."
  (let ((xrefs (xref-backend-apropos 'eglot (alist-get 'query step))))
    `((items . ,(vconcat
                 (mapcar (lambda (xref)
                           `((summary . ,(papercite-plain (xref-item-summary xref)))
                             (file . ,(xref-location-group (xref-item-location xref)))))
                         (seq-take xrefs 3)))))))

(defun papercite-save-all (_step)
  (save-some-buffers t)
  nil)

(defconst papercite-actions
  `(("open" . papercite-open) ("complete" . papercite-complete) ("hover" . papercite-hover)
    ("diagnostics" . papercite-diagnostics) ("code_action" . papercite-code-action)
    ("wait_text" . papercite-wait-text) ("symbols" . papercite-symbols)
    ("save_all" . papercite-save-all)))

(defun papercite-run ()
  (let (results error)
    (condition-case failure
        (progn
          ;; An interactive Emacs activates the installed packages (eglot, markdown-mode and
          ;; their autoloads) at startup; batch Emacs does not.
          (package-activate-all)
          (load (getenv "PAPERCITE_EMACS_CONFIG") nil t)
          (require 'eglot)
          (advice-add 'eglot--signal-textDocument/didChange :before #'papercite-note-changes-sent)
          (advice-add 'eglot-handle-notification :after #'papercite-note-diagnostics)
          (cl-letf (((symbol-function 'y-or-n-p)
                     (lambda (question) (push (papercite-plain question) papercite-questions) t)))
            (dolist (step (append (json-parse-string (getenv "PAPERCITE_EMACS_STEPS")
                                                     :object-type 'alist)
                                  nil))
              (let* ((op (alist-get 'op step))
                     (action (cdr (assoc op papercite-actions))))
                (push (cons `(op . ,op) (funcall action step)) results)))))
      (error (setq error (error-message-string failure))))
    (with-temp-file (getenv "PAPERCITE_EMACS_OUT")
      (insert (json-serialize `((results . ,(vconcat (nreverse results)))
                                (questions . ,(vconcat (reverse papercite-questions)))
                                (error . ,(or error :null))))))
    (kill-emacs 0)))

(papercite-run)

;;; drive.el ends here
