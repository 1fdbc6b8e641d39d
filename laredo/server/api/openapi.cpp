// The OpenAPI 3 document of the /v1 routes, served at /v1/openapi.json. A test checks that
// it lists exactly the routes the service has (method and path) and their access.

#include "laredo/server/api/context.hpp"

namespace laredo::server::api {

const std::string& openapi_document() {
    static const std::string text = std::string(
        R"OPENAPI({
 "openapi": "3.0.3",
 "info": {
  "title": "laredo-server API",
  "version": "1",
  "description": "Admin, status and query API of laredo-server. Every /v1 call needs a bearer token: an admin token for changes (x-laredo-access: admin), a read or admin token otherwise. Errors are {\"error\":{\"code\",\"message\"}}. Positions are strings in their source's form."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:4001"
  }
 ],
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer"
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "properties": {
     "error": {
      "type": "object",
      "properties": {
       "code": {
        "type": "string"
       },
       "message": {
        "type": "string"
       }
      },
      "required": [
       "code",
       "message"
      ]
     }
    },
    "required": [
     "error"
    ]
   },
   "Baseline": {
    "type": "object",
    "properties": {
     "running": {
      "type": "boolean"
     },
     "done": {
      "type": "boolean"
     },
     "rows_done": {
      "type": "integer"
     },
     "rows_total": {
      "type": "integer",
      "nullable": true
     },
     "rows_per_second": {
      "type": "number"
     },
     "started_at": {
      "type": "string"
     },
     "elapsed_seconds": {
      "type": "number"
     }
    }
   },
   "Pipeline": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "source": {
      "type": "string"
     },
     "table": {
      "type": "string"
     },
     "target_type": {
      "type": "string"
     },
     "state": {
      "type": "string",
      "enum": [
       "INITIALIZING",
       "BASELINING",
       "STREAMING",
       "PAUSED",
       "ERROR",
       "STOPPED"
      ]
     },
     "stale": {
      "type": "boolean"
     },
     "buffer": {
      "type": "object",
      "properties": {
       "depth": {
        "type": "integer"
       },
       "capacity": {
        "type": "integer"
       }
      }
     },
     "applied_position": {
      "type": "string",
      "nullable": true
     },
     "last_error": {
      "type": "string",
      "nullable": true
     },
     "row_count": {
      "type": "integer"
     },
     "baseline": {
      "$ref": "#/components/schemas/Baseline",
      "nullable": true
     }
    },
    "required": [
     "id",
     "source",
     "table",
     "state"
    ]
   },
   "PipelineList": {
    "type": "object",
    "properties": {
     "pipelines": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Pipeline"
      }
     }
    }
   },
   "Source": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "state": {
      "type": "string"
     },
     "ready": {
      "type": "boolean"
     },
     "connected": {
      "type": "boolean"
     },
     "supports_resume": {
      "type": "boolean"
     },
     "ordering": {
      "type": "string"
     },
     "lag": {
      "type": "object",
      "properties": {
       "bytes": {
        "type": "integer",
        "nullable": true
       },
       "seconds": {
        "type": "number",
        "nullable": true
       }
      }
     },
     "last_acked_position": {
      "type": "string",
      "nullable": true
     },
     "last_error": {
      "type": "string",
      "nullable": true
     },
     "slot": {
      "type": "object",
      "properties": {
       "name": {
        "type": "string"
       },
       "mode": {
        "type": "string"
       },
       "known": {
        "type": "boolean"
       },
       "read_at": {
        "type": "string"
       },
       "lag_bytes": {
        "type": "integer"
       },
       "retained_wal_bytes": {
        "type": "integer"
       },
       "wal_status": {
        "type": "string"
       },
       "safe_wal_bytes": {
        "type": "integer",
        "nullable": true
       },
       "spill_bytes": {
        "type": "integer"
       },
       "active": {
        "type": "boolean"
       }
      }
     },
     "baseline": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "table": {
         "type": "string"
        },
        "rows_done": {
         "type": "integer"
        },
        "rows_total": {
         "type": "integer",
         "nullable": true
        },
        "done": {
         "type": "boolean"
        }
       }
      }
     }
    },
    "required": [
     "id",
     "type",
     "state"
    ]
   },
   "SourceList": {
    "type": "object",
    "properties": {
     "sources": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Source"
      }
     }
    }
   },
   "SourceState": {
    "type": "object",
    "properties": {
     "source": {
      "type": "string"
     },
     "state": {
      "type": "string"
     }
    }
   },
   "ResetRequest": {
    "type": "object",
    "properties": {
     "confirm": {
      "type": "boolean"
     },
     "drop_publication": {
      "type": "boolean"
     }
    },
    "required": [
     "confirm"
    ]
   },
   "Reset": {
    "type": "object",
    "properties": {
     "source": {
      "type": "string"
     },
     "reset": {
      "type": "boolean"
     },
     "drop_publication": {
      "type": "boolean"
     }
    }
   },
   "Status": {
    "type": "object",
    "properties": {
     "state": {
      "type": "string",
      "enum": [
       "STARTING",
       "BASELINING",
       "STREAMING",
       "PAUSED",
       "ERROR",
       "DRAINING",
       "STOPPED"
      ]
     },
     "ready": {
      "type": "boolean"
     },
     "draining": {
      "type": "boolean"
     },
     "started_at": {
      "type": "string"
     },
     "version": {
      "type": "string"
     },
     "sources": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Source"
      }
     },
     "pipelines": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Pipeline"
      }
     }
    },
    "required": [
     "state",
     "ready",
     "sources",
     "pipelines"
    ]
   },
   "TableList": {
    "type": "object",
    "properties": {
     "tables": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "table": {
         "type": "string"
        },
        "schema": {
         "type": "string"
        },
        "name": {
         "type": "string"
        },
        "source": {
         "type": "string"
        },
        "targets": {
         "type": "array",
         "items": {
          "type": "object",
          "properties": {
           "pipeline": {
            "type": "string"
           },
           "target_type": {
            "type": "string"
           }
          }
         }
        }
       }
      }
     }
    }
   },
   "Table": {
    "type": "object",
    "properties": {
     "table": {
      "type": "string"
     },
     "source": {
      "type": "string"
     },
     "columns": {
      "type": "array",
      "items": {
       "type": "object"
      },
      "nullable": true
     },
     "pipelines": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Pipeline"
      }
     }
    }
   },
   "Reload": {
    "type": "object",
    "properties": {
     "table": {
      "type": "string"
     },
     "source": {
      "type": "string"
     },
     "reloaded": {
      "type": "boolean"
     }
    }
   },
   "Row": {
    "type": "object",
    "properties": {
     "row": {
      "type": "object",
      "description": "Column name to value. Integers beyond 2^53 and numerics are strings; bytes base64; timestamps RFC 3339"
     },
     "stale": {
      "type": "boolean"
     }
    }
   },
   "Rows": {
    "type": "object",
    "properties": {
     "rows": {
      "type": "array",
      "items": {
       "type": "object"
      }
     }
    }
   },
   "RowsPage": {
    "type": "object",
    "properties": {
     "table": {
      "type": "string"
     },
     "pipeline": {
      "type": "string"
     },
     "rows": {
      "type": "array",
      "items": {
       "type": "object"
      }
     },
     "next_cursor": {
      "type": "string",
      "nullable": true
     },
     "stale": {
      "type": "boolean"
     }
    }
   },
   "Count": {
    "type": "object",
    "properties": {
     "table": {
      "type": "string"
     },
     "pipeline": {
      "type": "string"
     },
     "count": {
      "type": "integer"
     },
     "stale": {
      "type": "boolean"
     }
    }
   },
   "Snapshot": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "created_at": {
      "type": "string"
     },
     "labels": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "source_positions": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "tables": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "pipeline": {
         "type": "string"
        },
        "source": {
         "type": "string"
        },
        "table": {
         "type": "string"
        },
        "target_type": {
         "type": "string"
        },
        "position": {
         "type": "string"
        },
        "row_count": {
         "type": "integer"
        },
        "size_bytes": {
         "type": "integer"
        }
       }
      }
     },
     "row_count": {
      "type": "integer"
     },
     "size_bytes": {
      "type": "integer"
     },
     "format": {
      "type": "string"
     }
    }
   },
   "SnapshotList": {
    "type": "object",
    "properties": {
     "snapshots": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Snapshot"
      }
     }
    }
   },
   "Deleted": {
    "type": "object",
    "properties": {
     "deleted": {
      "type": "string"
     }
    }
   },
   "DeadLetter": {
    "type": "object",
    "properties": {
     "sequence": {
      "type": "integer"
     },
     "pipeline": {
      "type": "string"
     },
     "written_at": {
      "type": "string"
     },
     "position": {
      "type": "string"
     },
     "error_code": {
      "type": "string"
     },
     "error_message": {
      "type": "string"
     },
     "attempts": {
      "type": "integer"
     },
     "change": {
      "type": "object"
     }
    }
   },
   "DeadLetterList": {
    "type": "object",
    "properties": {
     "pipeline": {
      "type": "string"
     },
     "dead_letters": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/DeadLetter"
      }
     }
    }
   },
   "DeadLetterCounts": {
    "type": "object",
    "properties": {
     "pipelines": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "pipeline": {
         "type": "string"
        },
        "count": {
         "type": "integer"
        }
       }
      }
     },
     "bytes_used": {
      "type": "integer"
     }
    }
   },
   "Replayed": {
    "type": "object",
    "properties": {
     "pipeline": {
      "type": "string"
     },
     "replayed": {
      "type": "integer"
     }
    }
   },
   "Purged": {
    "type": "object",
    "properties": {
     "pipeline": {
      "type": "string"
     },
     "purged": {
      "type": "integer"
     }
    }
   },
   "Drain": {
    "type": "object",
    "properties": {
     "draining": {
      "type": "boolean"
     },
     "shutdown": {
      "type": "boolean"
     }
    }
   }
  }
 },
 "paths": {
  "/v1/status": {
   "get": {
    "summary": "Engine, sources and pipelines",
    "responses": {
     "200": {
      "description": "Status",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Status"
        }
       }
      }
     },
     "400": {
      "description": "Bad request )OPENAPI"
        R"OPENAPI((malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/sources": {
   "get": {
    "summary": "Every source",
    "responses": {
     "200": {
      "description": "Sources",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SourceList"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/sources/{id}": {
   "get": {
    "summary": "One source: state, lag, positions, slot health, baseline progress",
    "responses": {
     "200": {
      "description": "Source",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Source"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Source id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/sources/{id}/pause": {
   "post": {
    "summary": "Pause a source (its pipelines stop applying; nothing is dropped)",
    "responses": {
     "200": {
      "description": "Paused",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SourceState"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Source id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "admin"
    ]
   }
  },
  "/v1/sources/{id}/resume": {
   "post": {
    "summary": "Resume a paused source",
    "responses": {
     "200": {
      "description": "Resumed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SourceState"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Source id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "admin"
    ]
   }
  },
  "/v1/sources/{id}/reset": {
   "post": {
    "summary": "Drop the source's replication slot (and optionally its publication): the next start takes a full baseline. Refused while a process streams from the slot.",
    "responses": {
     "200": {
      "description": "Reset",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Reset"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Source id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/ResetRequest"
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "admin"
    ]
   }
  },
  "/v1/pipelines": {
   "get": {
    "summary": "Every pipeline",
    "responses": {
     "200": {
      "description": "Pipelines",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/PipelineList"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/pipelines/{id}": {
   "get": {
    "summary": "One pipeline",
    "responses": {
     "200": {
      "description": "Pipeline",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Pipeline"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Pipeline id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/tables": {
   "get": {
    "summary": "Every table and its targets",
    "responses": {
     "200": {
      "description": "Tables",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/TableList"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "de)OPENAPI"
        R"OPENAPI(scription": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/tables/{table}": {
   "get": {
    "summary": "A table: its columns and pipelines",
    "responses": {
     "200": {
      "description": "Table",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Table"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/tables/{table}/reload": {
   "post": {
    "summary": "Re-baseline one table while the stream goes on (the new copy is swapped in when complete)",
    "responses": {
     "200": {
      "description": "Reloaded",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Reload"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "source": {
          "type": "string"
         }
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "admin"
    ]
   }
  },
  "/v1/tables/{table}/rows": {
   "get": {
    "summary": "Rows in key order, a page at a time",
    "responses": {
     "200": {
      "description": "A page",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/RowsPage"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "The table has not received its columns yet",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "The pipeline, when the table has several targets",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "Rows per page (default 100)",
      "schema": {
       "type": "integer",
       "minimum": 1
      }
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "description": "next_cursor of the previous page",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "query"
    ]
   }
  },
  "/v1/tables/{table}/rows/{key}": {
   "get": {
    "summary": "The row with this key. A composite key takes one path segment per key column, in key order: /rows/{k1}/{k2}",
    "responses": {
     "200": {
      "description": "The row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Row"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "key",
      "in": "path",
      "required": true,
      "description": "The key (one segment per key column)",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "The pipeline, when the table has several targets",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "query"
    ]
   }
  },
  "/v1/tables/{table}/count": {
   "get": {
    "summary": "How many rows the target holds",
    "responses": {
     "200": {
      "description": "Count",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Count"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "The pipeline, when the table has several targets",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "query"
    ]
   }
  },
  "/v1/tables/{table}/lookup/{values}": {
   "get": {
    "summary": "Rows whose lookup_fields equal the values (one segment per field)",
    "responses": {
     "200": {
      "description": "Rows",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Rows"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "co)OPENAPI"
        R"OPENAPI(ntent": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "values",
      "in": "path",
      "required": true,
      "description": "One segment per lookup field",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "The pipeline, when the table has several targets",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "query"
    ]
   }
  },
  "/v1/tables/{table}/indexes/{index}/{values}": {
   "get": {
    "summary": "Rows whose index fields equal the values (one segment per field)",
    "responses": {
     "200": {
      "description": "Rows",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Rows"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "index",
      "in": "path",
      "required": true,
      "description": "Index name",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "values",
      "in": "path",
      "required": true,
      "description": "One segment per index field",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "The pipeline, when the table has several targets",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "query"
    ]
   }
  },
  "/v1/snapshots": {
   "get": {
    "summary": "Snapshots, newest first",
    "responses": {
     "200": {
      "description": "Snapshots",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SnapshotList"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "snapshots"
    ]
   },
   "post": {
    "summary": "Take a snapshot now",
    "responses": {
     "201": {
      "description": "The snapshot",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Snapshot"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "labels": {
          "type": "object",
          "additionalProperties": {
           "type": "string"
          }
         }
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "snapshots"
    ]
   }
  },
  "/v1/snapshots/{id}": {
   "get": {
    "summary": "One snapshot's descriptor",
    "responses": {
     "200": {
      "description": "Snapshot",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Snapshot"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Snapshot id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "snapshots"
    ]
   },
   "delete": {
    "summary": "Delete a snapshot",
    "responses": {
     "200": {
      "description": "Deleted",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Deleted"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Snapshot id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "snapshots"
    ]
   }
  },
  "/v1/dead-letters": {
   "get": {
    "summary": "Pipelines with dead letters, and the store's size",
    "responses": {
     "200": {
      "description": "Counts",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/DeadLetterCounts"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-lare)OPENAPI"
        R"OPENAPI(do-access": "read",
    "tags": [
     "dead letters"
    ]
   }
  },
  "/v1/dead-letters/{pipeline}": {
   "get": {
    "summary": "A pipeline's dead letters, oldest first",
    "responses": {
     "200": {
      "description": "Letters",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/DeadLetterList"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "pipeline",
      "in": "path",
      "required": true,
      "description": "Pipeline id",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "At most this many (default 100)",
      "schema": {
       "type": "integer",
       "minimum": 1
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "dead letters"
    ]
   },
   "delete": {
    "summary": "Purge a pipeline's dead letters",
    "responses": {
     "200": {
      "description": "Purged",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Purged"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "pipeline",
      "in": "path",
      "required": true,
      "description": "Pipeline id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "dead letters"
    ]
   }
  },
  "/v1/dead-letters/{pipeline}/replay": {
   "post": {
    "summary": "Apply a pipeline's dead letters to its target in order (stops at the first that fails)",
    "responses": {
     "200": {
      "description": "Replayed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Replayed"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "pipeline",
      "in": "path",
      "required": true,
      "description": "Pipeline id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "dead letters"
    ]
   }
  },
  "/v1/drain": {
   "post": {
    "summary": "Report not ready; with shutdown (default true) stop gracefully as SIGTERM does",
    "responses": {
     "202": {
      "description": "Draining",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Drain"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "shutdown": {
          "type": "boolean",
          "default": true
         }
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "admin"
    ]
   },
   "delete": {
    "summary": "Report ready again after a drain without shutdown",
    "responses": {
     "200": {
      "description": "Not draining",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Drain"
        }
       }
      }
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "Not configured (no snapshot or dead-letter store) or not possible now",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "admin",
    "tags": [
     "admin"
    ]
   }
  },
  "/v1/openapi.json": {
   "get": {
    "summary": "This document",
    "responses": {
     "200": {
      "description": "OpenAPI 3 document"
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "status"
    ]
   }
  },
  "/v1/watch/status": {
   "get": {
    "summary": "WebSocket: status events (pipeline_state, source_connected, source_disconnected, rebaseline, baseline_started, baseline_completed, schema_change, snapshot_completed, snapshot_failed, server). A client that falls behind its byte-limited queue is closed with code 1008 and a reason.",
    "responses": {
     "101": {
      "description": "Switching to WebSocket"
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "426": {
      "description": "Not a WebSocket upgrade",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "Only this source",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "Only this pipeline",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "table",
      "in": "query",
      "required": false,
      "description": "Only this table (schema.table)",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "streams"
    ]
   }
  },
  "/v1/watch/tables/{table}": {
   "get": {
    "summary": "WebSocket: row changes of a table's indexed target; with replay=true the current rows first (snapshot, then snapshot_end), then every later change with no gap",
    "responses": {
     "101": {
      "description": "Swit)OPENAPI"
        R"OPENAPI(ching to WebSocket"
     },
     "400": {
      "description": "Bad request (malformed JSON, bad parameter)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "Unknown source, table, pipeline, snapshot or row",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "426": {
      "description": "Not a WebSocket upgrade",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "The pipeline, when the table has several targets",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "replay",
      "in": "query",
      "required": false,
      "description": "Send the current rows first",
      "schema": {
       "type": "boolean"
      }
     },
     {
      "name": "eq",
      "in": "query",
      "required": false,
      "description": "column:value (repeatable): only rows whose column has this value",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "prefix",
      "in": "query",
      "required": false,
      "description": "column:text (repeatable): only rows whose column starts with this text",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "streams"
    ]
   }
  },)OPENAPI"
        R"OPENAPI(
  "/v1/replication/{table}": {
   "get": {
    "summary": "WebSocket: the replication protocol of a table's replication-fanout target (handshake, snapshot or journal delta, live changes, heartbeats, GoAway on drain); see docs/fanout.md. Served on listeners without TLS",
    "responses": {
     "101": {
      "description": "Switching to WebSocket"
     },
     "401": {
      "description": "No token, or an unknown token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "The token may not do this (a read token on an admin call)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "404": {
      "description": "No replication-fanout target serves this table",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "426": {
      "description": "Not a WebSocket upgrade",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "501": {
      "description": "Asked on a listener with TLS",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "table",
      "in": "path",
      "required": true,
      "description": "The table as schema.table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "source",
      "in": "query",
      "required": false,
      "description": "The source, when several serve the table",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "pipeline",
      "in": "query",
      "required": false,
      "description": "The pipeline, when the table has several replication-fanout targets",
      "schema": {
       "type": "string"
      }
     }
    ],
    "security": [
     {
      "bearer": []
     }
    ],
    "x-laredo-access": "read",
    "tags": [
     "streams"
    ]
   }
  }
 }
})OPENAPI");
    return text;
}

}  // namespace laredo::server::api
