;;; emacs_e2e.el --- end-to-end test of toppass with eglot in batch mode  -*- lexical-binding: t; -*-
;; Run by editors_test.go: open a Python file holding a HumanEval prompt,
;; connect eglot to `toppass lsp', ask for code actions inside the function,
;; run "generate", ask again, apply candidate #1, save.

;; -Q skips Debian's site start, which activates elpa-* packages.
(dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
  (add-to-list 'load-path dir))
(require 'package)
(package-initialize)
(add-to-list 'load-path (getenv "TOPPASS_E2E_PLUGIN"))
(setq toppass-program (list (getenv "TOPPASS_E2E_BIN") "lsp" "--log-file"
                            (concat (getenv "TOPPASS_E2E_RESULT") ".server.log")))
(require 'toppass)
(setq toppass-settings '(:topK 2 :generate 4 :method "hybrid"))
(setq eglot-sync-connect 60 eglot-connect-timeout 60)

(defun e2e-finish (msg)
  (with-temp-file (concat (getenv "TOPPASS_E2E_RESULT") ".log") (insert msg))
  (kill-emacs (if (equal msg "ok") 0 1)))

(defun e2e-actions (server line)
  (goto-char (point-min))
  (forward-line line)
  (let ((pos (list :line line :character 4)))
    (jsonrpc-request server :textDocument/codeAction
                     (list :textDocument (eglot--TextDocumentIdentifier)
                           :range (list :start pos :end pos)
                           :context (list :diagnostics []))
                     :timeout 60)))

(condition-case err
    (progn
      (find-file (getenv "TOPPASS_E2E_FILE"))
      (python-mode)
      (let* ((dir default-directory)
             (server (eglot '(python-mode) (cons 'transient dir) 'toppass-server
                            (list (getenv "TOPPASS_E2E_BIN") "lsp" "--log-file"
                                  (concat (getenv "TOPPASS_E2E_RESULT") ".server.log"))
                            "python")))
        (unless (eglot-current-server) (error "eglot is not managing the buffer"))
        (setq server (eglot-current-server))
        (let* ((acts (e2e-actions server 5))
               (gen (plist-get (aref acts 0) :command)))
          (unless (and (= (length acts) 1) gen) (error "first actions: %S" acts))
          (jsonrpc-request server :workspace/executeCommand
                           (list :command (plist-get gen :command) :arguments (plist-get gen :arguments))
                           :timeout 300)
          (setq acts (e2e-actions server 5))
          (let ((first (aref acts 0)))
            (unless (and (plist-get first :edit)
                         (string-match-p "use candidate #1" (plist-get first :title)))
              (error "actions: %S" acts))
            (eglot--apply-workspace-edit (plist-get first :edit))
            (write-region (point-min) (point-max) (getenv "TOPPASS_E2E_RESULT"))))
        (e2e-finish "ok")))
  (error (e2e-finish (format "%S" err))))
