-- Drives papercite's language server from Neovim's built-in LSP client, headless.
-- Reads its inputs from the environment, writes what the editor received as JSON, then quits.
local out_path = os.getenv("PAPERCITE_NVIM_OUT")
local server_cmd = vim.fn.json_decode(os.getenv("PAPERCITE_NVIM_CMD"))
local files = vim.fn.json_decode(os.getenv("PAPERCITE_NVIM_FILES"))
local results = {}

local function finish(err)
  if err then results.error = err end
  local handle = io.open(out_path, "w")
  handle:write(vim.fn.json_encode(results))
  handle:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  local client_id = vim.lsp.start_client({ name = "papercite", cmd = server_cmd, root_dir = vim.fn.getcwd() })
  assert(client_id, "the language server did not start")
  for _, file in ipairs(files) do
    vim.cmd("edit " .. vim.fn.fnameescape(file.path))
    vim.bo.filetype = file.filetype
    local bufnr = vim.api.nvim_get_current_buf()
    vim.lsp.buf_attach_client(bufnr, client_id)
    local ready = vim.wait(20000, function()
      local client = vim.lsp.get_client_by_id(client_id)
      return client ~= nil and client.initialized == true
    end, 50)
    assert(ready, "the language server did not initialize")
    local position = { line = file.line, character = file.character }
    local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr), position = position }
    local entry = { path = file.path }
    local completion = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", params, 20000)
    for _, response in pairs(completion or {}) do
      local items = response.result and (response.result.items or response.result) or {}
      entry.labels = {}
      for index, item in ipairs(items) do
        if index > 5 then break end
        table.insert(entry.labels, item.label)
      end
    end
    if file.hover_line then
      local hover_params = {
        textDocument = params.textDocument,
        position = { line = file.hover_line, character = file.hover_character },
      }
      local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", hover_params, 20000)
      for _, response in pairs(hover or {}) do
        if response.result then entry.hover = response.result.contents.value end
      end
    end
    vim.wait(20000, function() return #vim.diagnostic.get(bufnr) >= (file.diagnostics or 0) end, 50)
    entry.diagnostics = {}
    for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
      table.insert(entry.diagnostics, { message = diagnostic.message, line = diagnostic.lnum, col = diagnostic.col })
    end
    results[#results + 1] = entry
  end
end)
finish(not ok and tostring(err) or nil)
