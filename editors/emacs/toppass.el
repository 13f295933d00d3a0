;;; toppass.el --- toppass's language server through eglot  -*- lexical-binding: t; -*-

;; Code actions (M-x eglot-code-actions) offer the top-ranked candidates for
;; the function at point, each titled with its evidence.  Works with Emacs 28
;; and eglot 1.9 (Debian bookworm's elpa-eglot) and newer.

;;; Code:

(require 'eglot)

(defgroup toppass nil "Ranked LLM candidates as code actions." :group 'tools)

(defcustom toppass-program '("toppass" "lsp")
  "The command that runs toppass's language server."
  :type '(repeat string))

(defcustom toppass-settings '(:topK 3 :generate 10 :method "hybrid")
  "Settings sent to the server (topK, generate, method, endpoint, model, timeout)."
  :type 'plist)

(defclass toppass-server (eglot-lsp-server) ()
  "toppass's language server.")

(cl-defmethod eglot-initialization-options ((_server toppass-server))
  toppass-settings)

;; toppass serves Python buffers (it replaces another Python server in eglot
;; for the modes listed here).
(add-to-list 'eglot-server-programs
             `((python-mode python-ts-mode) . (toppass-server . ,toppass-program)))

(defun toppass--command (command)
  "Run toppass COMMAND for the function at point."
  (let ((server (eglot--current-server-or-lose)))
    (jsonrpc-async-request
     server :workspace/executeCommand
     (list :command command
           :arguments (vector (list :uri (plist-get (eglot--TextDocumentIdentifier) :uri)
                                    :line (1- (line-number-at-pos)))))
     :success-fn (lambda (_) (message "toppass: %s done" command))
     :error-fn (lambda (err) (message "toppass: %s" (plist-get err :message))))))

(defun toppass-generate ()
  "Generate and rank candidates for the function at point."
  (interactive)
  (toppass--command "toppass.generate"))

(defun toppass-show-candidates ()
  "Show every ranked candidate for the function at point."
  (interactive)
  (toppass--command "toppass.showCandidates"))

(provide 'toppass)
;;; toppass.el ends here
