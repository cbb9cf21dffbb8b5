-- Drives papercite's language server from Neovim's built-in LSP client, headless, as a user would:
-- it opens files, asks for completion and hover, jumps to definitions, picks code actions from the
-- menu. The steps come as JSON in the environment; each step's result goes to a JSON file.
local out_path = os.getenv("PAPERCITE_NVIM_OUT")
local server_cmd = vim.fn.json_decode(os.getenv("PAPERCITE_NVIM_CMD"))
local steps = vim.fn.json_decode(os.getenv("PAPERCITE_NVIM_STEPS"))
local TIMEOUT = 20000
local results = {}
local client_id

local function finish(err)
  local handle = io.open(out_path, "w")
  handle:write(vim.fn.json_encode({ results = results, error = err }))
  handle:close()
  vim.cmd("qall!")
end

local function params_at(step)
  return {
    textDocument = vim.lsp.util.make_text_document_params(0),
    position = { line = step.line, character = step.character },
  }
end

local function request(method, params)
  local responses = vim.lsp.buf_request_sync(0, method, params, TIMEOUT)
  for _, response in pairs(responses or {}) do
    assert(not response.err, method .. " failed: " .. vim.inspect(response.err))
    return response.result
  end
end

local function diagnostics_of(bufnr)
  local found = {}
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(found, { message = diagnostic.message, line = diagnostic.lnum, col = diagnostic.col })
  end
  table.sort(found, function(a, b) return a.line < b.line or (a.line == b.line and a.col < b.col) end)
  return found
end

local actions = {}

function actions.open(step)
  vim.cmd("edit " .. vim.fn.fnameescape(step.path))
  vim.bo.filetype = step.filetype
  vim.lsp.buf_attach_client(0, client_id)
  local ready = vim.wait(TIMEOUT, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized == true
  end, 50)
  assert(ready, "the language server did not initialize")
  return {}
end

function actions.complete(step)
  local result = request("textDocument/completion", params_at(step)) or {}
  local labels, details = {}, {}
  for index, item in ipairs(result.items or result) do
    if index > 5 then break end
    table.insert(labels, item.label)
    table.insert(details, item.detail or "")
  end
  return { labels = labels, details = details }
end

function actions.hover(step)
  local result = request("textDocument/hover", params_at(step))
  return { hover = result and result.contents.value or vim.NIL }
end

function actions.diagnostics(step)
  local bufnr = step.path and vim.uri_to_bufnr(vim.uri_from_fname(step.path)) or 0
  vim.wait(TIMEOUT, function() return #vim.diagnostic.get(bufnr) == step.count end, 50)
  return { diagnostics = diagnostics_of(bufnr) }
end

function actions.definition(step)
  local before = vim.api.nvim_buf_get_name(0)
  vim.api.nvim_win_set_cursor(0, { step.line + 1, step.character })
  vim.lsp.buf.definition()
  vim.wait(TIMEOUT, function() return vim.api.nvim_buf_get_name(0) ~= before end, 50)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local text = vim.api.nvim_buf_get_lines(0, cursor[1] - 1, cursor[1], false)[1]
  local result = { path = vim.api.nvim_buf_get_name(0), line = cursor[1] - 1, text = text }
  vim.cmd("buffer " .. vim.fn.bufnr(before))
  return result
end

-- Picks, from the code action menu, the first action whose title starts with `step.choose`.
function actions.code_action(step)
  vim.api.nvim_win_set_cursor(0, { step.line + 1, step.character })
  local titles, chosen = {}, nil
  local original_select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    for index, item in ipairs(items) do
      local action = item[2] or item.action
      table.insert(titles, action.title)
      if chosen == nil and vim.startswith(action.title, step.choose) then chosen = index end
    end
    vim.ui.select = original_select
    if chosen then on_choice(items[chosen], chosen) else on_choice(nil, nil) end
  end
  local changedtick = vim.api.nvim_buf_get_changedtick(0)
  vim.lsp.buf.code_action()
  vim.wait(TIMEOUT, function() return #titles > 0 end, 50)
  if step.changes_buffer then
    vim.wait(TIMEOUT, function() return vim.api.nvim_buf_get_changedtick(0) ~= changedtick end, 50)
  end
  return { titles = titles, chosen = chosen and titles[chosen] or vim.NIL }
end

-- Runs a request whose answer Neovim puts in the quickfix list, and reads that list.
local function quickfix_after(run)
  vim.fn.setqflist({}, "r")
  run()
  vim.wait(TIMEOUT, function() return #vim.fn.getqflist() > 0 end, 50)
  local items = {}
  for _, item in ipairs(vim.fn.getqflist()) do
    table.insert(items, { path = vim.api.nvim_buf_get_name(item.bufnr), line = item.lnum - 1, text = item.text })
  end
  vim.cmd("cclose")
  return items
end

function actions.references(step)
  vim.api.nvim_win_set_cursor(0, { step.line + 1, step.character })
  return { items = quickfix_after(function() vim.lsp.buf.references({ includeDeclaration = false }) end) }
end

function actions.workspace_symbol(step)
  return { items = quickfix_after(function() vim.lsp.buf.workspace_symbol(step.query) end) }
end

-- Waits until a file's buffer (or the file on disk, if it has no buffer) holds `step.contains`.
function actions.wait_text(step)
  local function text()
    local bufnr = vim.fn.bufnr(step.path)
    if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
      return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
    end
    local handle = io.open(step.path)
    if not handle then return "" end
    local content = handle:read("*a")
    handle:close()
    return content
  end
  vim.wait(TIMEOUT, function() return text():find(step.contains, 1, true) ~= nil end, 50)
  return { text = text() }
end

function actions.write_all()
  vim.cmd("silent wall")
  return {}
end

local ok, err = pcall(function()
  client_id = vim.lsp.start_client({ name = "papercite", cmd = server_cmd, root_dir = vim.fn.getcwd() })
  assert(client_id, "the language server did not start")
  for _, step in ipairs(steps) do
    local result = actions[step.op](step)
    result.op = step.op
    table.insert(results, result)
  end
end)
finish(not ok and tostring(err) or nil)
